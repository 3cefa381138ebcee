import ABLNet
import Foundation
import PoisonForge
import Sanitizer

/// ABL stage 2, from the isolation model: `sequential` fine-tunes on the rest, then runs
/// gradient ascent on the isolated samples (the reference code); `joint` descends on the rest
/// and ascends on the isolated samples in every step (the paper's objective), then runs the
/// optional ascent epochs. The ascent can freeze BatchNorm statistics and stop early once the
/// model's accuracy on the isolated samples (labels as given) falls to a threshold.
struct UnlearnStage: Stage {
    let name = "unlearn"
    let upstream = ["poison", "isolate"]
    /// 2: wall times in the volatile timing.json.
    let formatVersion = 2 // the objective parameter enters the key through the parameters

    func parameters(_ m: Manifest) -> JSON { TrainingSupport.keyed(["model": m.section("model"), "unlearn": m.section("unlearn"), "seed": m.resolved["seed"]!]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.config.unlearn
        let data = try PoisonedRun.load(ctx)
        let train = data.dataset.train
        let net = try TrainingSupport.network(m, data.dataset, stream: "isolate")
        try SafeTensors.load(into: net, from: ctx.upstreamFolder("isolate") + "/model.safetensors")
        let isolated = try NPY.read(ctx.upstreamFolder("isolate") + "/isolated.npy").int64
        let isoSet = Set(isolated)
        let rest = (0..<train.count).filter { !isoSet.contains($0) }
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name)
        let bs = trainer.settings.batchSize
        var curve: [CurvePoint] = []
        var seconds: [Double] = []
        let ftEpochs = s.finetuneEpochs, ftLR = Float(s.finetuneLr), drop = s.finetuneLrDrop
        // nothing isolated (a "no backdoor" verdict): the stage fine-tunes an ordinary model
        let joint = s.mode == .joint && !isolated.isEmpty
        if isolated.isEmpty { ctx.log("nothing was isolated: fine-tuning on the whole training set, without unlearning") }
        let unlearnObjective = s.unlearning
        let ftAug = TrainingSupport.augmentation(s.finetuneAugment)
        if ftEpochs > 0 {
            for e in 1...ftEpochs {
                let t0 = Date(), lr = TrainingSupport.lr(ftLR, drop: drop, epoch: e - 1)
                let bar = ctx.progress("\(joint ? "joint" : "fine-tune") epoch \(e)/\(ftEpochs)", total: (rest.count + bs - 1) / bs)
                let loss: Double
                if joint {
                    loss = try trainer.jointEpoch(train, clean: rest, isolated: isolated, lambda: Float(s.lambda), unlearning: unlearnObjective, lr: lr,
                                                  augment: ftAug, shuffle: true, stage: "unlearn (joint)", epoch: e)
                    bar.update((rest.count + bs - 1) / bs)
                } else {
                    loss = try trainer.epoch(train, indices: rest, objective: .crossEntropy, lr: lr, augment: ftAug, shuffle: true,
                                             stage: "unlearn (fine-tune)", epoch: e) { done, _ in bar.update(done); return true }
                }
                let scores = try data.score(net)
                curve.append(TrainingSupport.point(phase: joint ? "joint" : "finetune", epoch: e, lr: lr, loss: loss, scores: scores)); seconds.append(Date().timeIntervalSince(t0))
                ctx.log(String(format: "%@ epoch %d: loss %.4f, CA %.2f%%, ASR %.2f%%", joint ? "joint" : "fine-tune", e, loss, scores.ca * 100, scores.asr * 100))
            }
        }
        let ulEpochs = s.epochs, ulLR = Float(s.lr)
        let stopAt = s.stopIsolatedAccuracy
        let isoSplit = train.subset(isolated)
        func isolatedAccuracy() throws -> Double? {
            isolated.isEmpty ? nil : Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, isoSplit), labels: isoSplit.labels)
        }
        var stoppedAt: AscentStop? = nil
        if ulEpochs > 0 && !isolated.isEmpty {
            net.freezeBatchNormStatistics(s.freezeBn)
            defer { net.freezeBatchNormStatistics(false) }
            var stop = false
            if let t = stopAt, let a = try isolatedAccuracy(), a <= t { stop = true; stoppedAt = AscentStop(epoch: 0, step: 0) }
            var e = 1
            while e <= ulEpochs && !stop {
                let t0 = Date()
                let loss = try trainer.epoch(train, indices: isolated, objective: unlearnObjective, lr: ulLR, augment: TrainingSupport.augmentation(s.augment),
                                             shuffle: true, stage: "unlearn (ascent)", epoch: e) { step, _ in
                    guard let t = stopAt, let a = try isolatedAccuracy() else { return true }
                    if a <= t {
                        stop = true
                        stoppedAt = AscentStop(epoch: e, step: step)
                        return false
                    }
                    return true
                }
                let scores = try data.score(net)
                curve.append(TrainingSupport.point(phase: "unlearn", epoch: e, lr: ulLR, loss: loss, scores: scores)); seconds.append(Date().timeIntervalSince(t0))
                ctx.log(String(format: "unlearn epoch %d: isolated loss %.4f, CA %.2f%%, ASR %.2f%%%@", e, -loss, scores.ca * 100, scores.asr * 100, stop ? " (stopping rule met)" : ""))
                e += 1
            }
        }
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try TrainingSupport.writeTiming(ctx, seconds)
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: curve, final: Scores(try data.score(net)),
                                                              isolatedAccuracy: try isolatedAccuracy().map(TrainingSupport.round4), ascentStopped: .some(stoppedAt)))
    }
}
