import ABLNet
import CanonicalJSON
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
    /// Where the training set comes from (the poison stage, or the dataset as given).
    var origin: DataOrigin = .poisoned
    var upstream: [String] { origin.stages + ["isolate"] }
    /// 2: wall times in the volatile timing.json; 3: quarantined.npy.
    let formatVersion = 3 // the objective parameter enters the key through the parameters
    let runsOnEveryRank = true

    func parameters(_ m: Manifest) -> JSON { TrainingSupport.keyed(["model": m.section("model"), "unlearn": m.section("unlearn"), "seed": m.resolved["seed"]!], m) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json", "quarantined.npy"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let data = try TrainingData.load(ctx, origin)
        let train = data.dataset.train
        let net = try TrainingSupport.network(m, data.dataset, stream: "isolate")
        try SafeTensors.load(into: net, from: ctx.upstreamFolder("isolate") + "/model.safetensors")
        let isolated = try NPY.read(ctx.upstreamFolder("isolate") + "/isolated.npy").int64
        var quarantined: [Int] = []
        if m.config.unlearn.quarantine > 0, !isolated.isEmpty {
            let lossFile = ctx.upstreamFolder("isolate") + "/losses.npy"
            let losses = try NPY.read(lossFile).float32
            guard losses.count == train.count else {
                throw DatasetError.badFormat(path: lossFile, reason: "\(losses.count) losses for \(train.count) training samples")
            }
            quarantined = Quarantine.margin(isolated: isolated, labels: train.labels, losses: losses, ratio: m.config.unlearn.quarantine)
        }
        try NPY.write(int64: quarantined, to: ctx.workFolder + "/quarantined.npy")
        if !quarantined.isEmpty {
            ctx.log("quarantine: \(quarantined.count) more samples of label \(train.labels[quarantined[0]]) (the next-lowest isolation losses) left out of fine-tuning")
        }
        let isoSet = Set(isolated).union(quarantined)
        let rest = (0..<train.count).filter { !isoSet.contains($0) }
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name, group: ctx.group)
        let isoSplit = train.subset(isolated)
        let isolatedAccuracy = { Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, isoSplit, group: ctx.group), labels: isoSplit.labels) }
        var loop = TrainingLoop(ctx)
        // nothing isolated (a "no backdoor" verdict): the stage fine-tunes an ordinary model
        if isolated.isEmpty { ctx.log("nothing was isolated: fine-tuning on the whole training set, without unlearning") }
        try fineTune(&loop, trainer, data, rest: rest, isolated: isolated)
        let stoppedAt = isolated.isEmpty ? nil : try ascend(&loop, trainer, data, isolated: isolated, isolatedAccuracy: isolatedAccuracy)
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try loop.writeTiming()
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: loop.curve, final: Scores(try data.score(net, group: ctx.group)),
                                                              isolatedAccuracy: isolated.isEmpty ? nil : TrainingSupport.round4(try isolatedAccuracy()),
                                                              ascentStopped: .some(stoppedAt)))
    }

    /// `finetune_epochs` epochs on the rest: plain fine-tuning (sequential), or the joint
    /// objective that also unlearns the isolated samples in every step (joint).
    func fineTune(_ loop: inout TrainingLoop, _ trainer: Trainer, _ data: TrainingData, rest: [Int], isolated: [Int]) throws {
        let s = loop.ctx.manifest.config.unlearn, train = data.dataset.train
        let joint = s.mode == .joint && !isolated.isEmpty, label = joint ? "joint" : "fine-tune"
        let aug = TrainingSupport.augmentation(s.finetuneAugment)
        let steps = TrainingSupport.steps(rest.count, trainer)
        try loop.run(phase: joint ? "joint" : "finetune", label: label, epochs: s.finetuneEpochs, steps: steps,
                     lr: { TrainingSupport.lr(Float(s.finetuneLr), drop: s.finetuneLrDrop, epoch: $0 - 1) },
                     train: { e, lr, progress in
                         if joint {
                             let loss = try trainer.jointEpoch(train, JointEpochPlan(clean: rest, isolated: isolated, lambda: Float(s.lambda), unlearning: s.unlearning,
                                                                                     lr: lr, augment: aug, name: "unlearn (joint) epoch \(e)"))
                             progress(steps)
                             return loss
                         }
                         return try trainer.epoch(train, EpochPlan(samples: rest, objective: .crossEntropy, lr: lr, augment: aug,
                                                                   name: "unlearn (fine-tune) epoch \(e)")) { done, _ in progress(done); return true }
                     },
                     score: { TrainingLoop.Score(try data.score(trainer.net, group: trainer.group)) },
                     log: { e, loss, sc in String(format: "%@ epoch %d: loss %.4f, ", label, e, loss) + sc.text })
    }

    /// `epochs` epochs of the unlearning objective on the isolated samples, BatchNorm statistics
    /// frozen if asked, stopped once the accuracy on them reaches `stop_isolated_accuracy`.
    /// Returns where the rule stopped it, nil when it did not.
    func ascend(_ loop: inout TrainingLoop, _ trainer: Trainer, _ data: TrainingData, isolated: [Int],
                isolatedAccuracy: () throws -> Double) throws -> AscentStop? {
        let s = loop.ctx.manifest.config.unlearn, train = data.dataset.train, net = trainer.net
        guard s.epochs > 0 else { return nil }
        net.freezeBatchNormStatistics(s.freezeBn)
        defer { net.freezeBatchNormStatistics(false) }
        let stopAt = s.stopIsolatedAccuracy
        var stoppedAt: AscentStop? = nil
        if let t = stopAt, try isolatedAccuracy() <= t { stoppedAt = AscentStop(epoch: 0, step: 0) }
        let lr = Float(s.lr), aug = TrainingSupport.augmentation(s.augment), objective = s.unlearning
        try withoutActuallyEscaping(isolatedAccuracy) { accuracy in
            try loop.run(phase: "unlearn", label: "unlearn", epochs: s.epochs, steps: TrainingSupport.steps(isolated.count, trainer), lr: { _ in lr },
                         stop: { stoppedAt != nil },
                         train: { e, lr, progress in
                             try trainer.epoch(train, EpochPlan(samples: isolated, objective: objective, lr: lr, augment: aug,
                                                                name: "unlearn (ascent) epoch \(e)")) { step, _ in
                                 progress(step)
                                 guard let t = stopAt, try accuracy() <= t else { return true }
                                 stoppedAt = AscentStop(epoch: e, step: step)
                                 return false
                             }
                         },
                         score: { TrainingLoop.Score(try data.score(net, group: trainer.group)) },
                         log: { e, loss, sc in
                             String(format: "unlearn epoch %d: isolated loss %.4f, ", e, -loss) + sc.text + (stoppedAt != nil ? " (stopping rule met)" : "")
                         })
        }
        return stoppedAt
    }
}
