import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// Trains the attacker's clean surrogate model on the clean training set (optionally a seeded
/// subset), for the attacks that optimise against one. Its outputs' digest enters the poison
/// stage's cache key like any upstream stage's.
struct SurrogateStage: Stage {
    let name = "surrogate"
    let upstream = ["ingest"]
    let formatVersion = 1
    let runsOnEveryRank = true

    func parameters(_ m: Manifest) -> JSON {
        var model = m.section("model").objectValue ?? [:]
        model["architecture"] = nil // the surrogate section names its own
        return TrainingSupport.keyed(["model": .object(model), "surrogate": m.section("surrogate"), "seed": m.resolved["seed"]!], m)
    }
    func externalInputs(_ m: Manifest) -> [String] { [m.config.surrogate.checkpoint].compactMap { $0 } }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json"] }

    /// The surrogate network for a dataset, untrained (its weights come from `model.safetensors`).
    static func network(_ m: Manifest, channels: Int, classes: Int) -> Network {
        let arch = m.config.surrogate.architecture
        var rng = SeededRNG(seed: m.seed, stream: "model-surrogate")
        return arch.build(inputChannels: channels, numClasses: classes, seed: rng.next(), engine: m.engine)
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.config.surrogate
        let clean = try DatasetStore.read(from: ctx.upstreamFolder("ingest"))
        var indices = Array(clean.train.labels.indices)
        if let limit = s.trainLimit, limit < indices.count {
            var rng = SeededRNG(seed: m.seed, stream: "surrogate-subset")
            indices = rng.permutation(indices.count).prefix(limit).sorted()
        }
        let net = SurrogateStage.network(m, channels: clean.train.channels, classes: clean.classNames.count)
        if let path = s.checkpoint {
            // A model the user brings: validated against the dataset's shape, scored, copied.
            do { try SafeTensors.load(into: net, from: path) } catch {
                throw StageError.failed(stage: name, reason: "surrogate.checkpoint: \(error)")
            }
            let ca = Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, clean.test, group: ctx.group), labels: clean.test.labels)
            ctx.log(String(format: "surrogate from %@: CA %.2f%%", path, ca * 100))
            try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name, "source": path])
            try TrainingSupport.writeTiming(ctx, [])
            try TrainingSupport.writeMetrics(ctx, SurrogateMetrics(curve: [], final: .init(ca: TrainingSupport.round4(ca)), checkpoint: path))
            return
        }
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name, group: ctx.group)
        let epochs = s.epochs, base = Float(s.lr), drop = s.lrDrop
        let aug = TrainingSupport.augmentation(s.augment)
        var ca = 0.0
        var loop = TrainingLoop(ctx)
        try loop.run(phase: name, label: name, epochs: epochs, steps: TrainingSupport.steps(indices.count, trainer), lr: { TrainingSupport.lr(base, drop: drop, epoch: $0 - 1) },
                     train: { e, lr, progress in
                         try trainer.epoch(clean.train, EpochPlan(samples: indices, objective: .crossEntropy, lr: lr, augment: aug, name: "\(name) epoch \(e)")) { done, _ in
                             progress(done); return true
                         }
                     },
                     score: {
                         ca = Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, clean.test, group: ctx.group), labels: clean.test.labels)
                         return TrainingLoop.Score(ca: ca, asr: nil)
                     },
                     log: { e, loss, s in String(format: "surrogate epoch %d: loss %.4f, CA %.2f%%", e, loss, s.ca * 100) })
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try loop.writeTiming()
        try TrainingSupport.writeMetrics(ctx, SurrogateMetrics(curve: loop.curve, final: .init(ca: TrainingSupport.round4(ca)), trainCount: indices.count))
    }
}
