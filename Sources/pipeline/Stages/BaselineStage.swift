import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// Standard training without a defense: on the poisoned set (`baseline`, the "no defense"
/// row), or on the clean set (`clean`, the clean-model reference).
struct BaselineStage: Stage {
    let onClean: Bool
    var name: String { onClean ? "clean" : "baseline" }
    /// Where the training set comes from (the poison stage, or the dataset as given).
    var origin: DataOrigin = .poisoned
    var upstream: [String] { onClean ? ["ingest", "poison"] : origin.stages }
    /// 2: wall times in the volatile timing.json.
    let formatVersion = 2
    let runsOnEveryRank = true

    func parameters(_ m: Manifest) -> JSON {
        var b = m.section("baseline").objectValue ?? [:]
        // whether the clean stage exists, or is asked for explicitly, does not change what this stage computes
        b["clean"] = nil
        b["no_defense"] = nil
        return TrainingSupport.keyed(["model": m.section("model"), "baseline": .object(b), "seed": m.resolved["seed"]!], m)
    }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.config.baseline
        let data = try TrainingData.load(ctx, origin)
        let train = onClean ? try DatasetStore.read(from: ctx.upstreamFolder("ingest")).train : data.dataset.train
        let net = try TrainingSupport.network(m, data.dataset, stream: name)
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name, group: ctx.group)
        let epochs = s.epochs, base = Float(s.lr), drop = s.lrDrop
        let aug = TrainingSupport.augmentation(s.augment)
        var loop = TrainingLoop(ctx)
        try loop.run(phase: name, label: name, epochs: epochs, steps: TrainingSupport.steps(train.count, trainer), lr: { TrainingSupport.lr(base, drop: drop, epoch: $0 - 1) },
                     train: { e, lr, progress in
                         try trainer.epoch(train, EpochPlan(objective: .crossEntropy, lr: lr, augment: aug, name: "\(name) epoch \(e)")) { done, _ in progress(done); return true }
                     },
                     score: { TrainingLoop.Score(try data.score(net, group: ctx.group)) },
                     log: { e, loss, s in String(format: "%@ epoch %d: loss %.4f, ", name, e, loss) + s.text })
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try loop.writeTiming()
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: loop.curve, final: Scores(try data.score(net, group: ctx.group))))
    }
}
