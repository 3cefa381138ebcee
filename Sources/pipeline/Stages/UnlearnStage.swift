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

    func parameters(_ m: Manifest) -> JSON { TrainingSupport.keyed(["model": m.section("model"), "unlearn": m.section("unlearn"), "seed": m.resolved["seed"]!], m) }
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
        let joint = s.mode == .joint, phase = joint ? "joint" : "finetune", label = joint ? "joint" : "fine-tune"
        let unlearnObjective = s.unlearning
        let ftAug = TrainingSupport.augmentation(s.finetuneAugment)
        let steps = TrainingSupport.steps(rest.count, trainer)
        var loop = TrainingLoop(ctx)
        func scoreLine(_ e: Int, _ loss: Double, _ sc: TrainingLoop.Score, _ what: String, _ suffix: String = "") -> String {
            String(format: "%@ epoch %d: %@ %.4f, CA %.2f%%, ASR %.2f%%%@", label, e, what, loss, sc.ca * 100, (sc.asr ?? 0) * 100, suffix)
        }
        try loop.run(phase: phase, label: label, epochs: s.finetuneEpochs, steps: steps,
                     lr: { TrainingSupport.lr(Float(s.finetuneLr), drop: s.finetuneLrDrop, epoch: $0 - 1) },
                     train: { e, lr, progress in
                         if joint {
                             let loss = try trainer.jointEpoch(train, JointEpochPlan(clean: rest, isolated: isolated, lambda: Float(s.lambda), unlearning: unlearnObjective,
                                                                                     lr: lr, augment: ftAug, name: "unlearn (joint) epoch \(e)"))
                             progress(steps)
                             return loss
                         }
                         return try trainer.epoch(train, EpochPlan(samples: rest, objective: .crossEntropy, lr: lr, augment: ftAug,
                                                                   name: "unlearn (fine-tune) epoch \(e)")) { done, _ in progress(done); return true }
                     },
                     score: { TrainingLoop.Score(try data.score(net)) },
                     log: { e, loss, sc in scoreLine(e, loss, sc, "loss") })
        let stopAt = s.stopIsolatedAccuracy
        let isoSplit = train.subset(isolated)
        func isolatedAccuracy() throws -> Double {
            Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, isoSplit), labels: isoSplit.labels)
        }
        var stoppedAt: AscentStop? = nil
        if s.epochs > 0 {
            net.freezeBatchNormStatistics(s.freezeBn)
            defer { net.freezeBatchNormStatistics(false) }
            var stop = false
            if let t = stopAt, try isolatedAccuracy() <= t { stop = true; stoppedAt = AscentStop(epoch: 0, step: 0) }
            let ulLR = Float(s.lr), aug = TrainingSupport.augmentation(s.augment)
            try loop.run(phase: "unlearn", label: "unlearn", epochs: s.epochs, steps: TrainingSupport.steps(isolated.count, trainer), lr: { _ in ulLR },
                         stop: { stop },
                         train: { e, lr, progress in
                             try trainer.epoch(train, EpochPlan(samples: isolated, objective: unlearnObjective, lr: lr, augment: aug,
                                                                name: "unlearn (ascent) epoch \(e)")) { step, _ in
                                 progress(step)
                                 guard let t = stopAt else { return true }
                                 if try isolatedAccuracy() <= t {
                                     stop = true
                                     stoppedAt = AscentStop(epoch: e, step: step)
                                     return false
                                 }
                                 return true
                             }
                         },
                         score: { TrainingLoop.Score(try data.score(net)) },
                         log: { e, loss, sc in
                             String(format: "unlearn epoch %d: isolated loss %.4f, CA %.2f%%, ASR %.2f%%%@", e, -loss, sc.ca * 100, (sc.asr ?? 0) * 100,
                                    stop ? " (stopping rule met)" : "")
                         })
        }
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try loop.writeTiming()
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: loop.curve, final: Scores(try data.score(net)),
                                                              isolatedAccuracy: TrainingSupport.round4(try isolatedAccuracy()), ascentStopped: .some(stoppedAt)))
    }
}
