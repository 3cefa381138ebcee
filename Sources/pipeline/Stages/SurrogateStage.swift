import ABLNet
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

    func parameters(_ m: Manifest) -> JSON {
        var model = m.section("model").objectValue ?? [:]
        model["architecture"] = nil // the surrogate section names its own
        return TrainingSupport.keyed(["model": .object(model), "surrogate": m.section("surrogate"), "seed": m.resolved["seed"]!])
    }
    func externalInputs(_ m: Manifest) -> [String] { [m.section("surrogate")["checkpoint"]?.stringValue].compactMap { $0 } }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json"] }

    /// The surrogate network for a dataset, untrained (its weights come from `model.safetensors`).
    static func network(_ m: Manifest, channels: Int, classes: Int) -> Network {
        let arch = Architecture(rawValue: m.section("surrogate")["architecture"]?.stringValue ?? "wrn-16-1") ?? .wrn16_1
        var rng = SeededRNG(seed: m.seed, stream: "model-surrogate")
        return arch.build(inputChannels: channels, numClasses: classes, seed: rng.next())
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.section("surrogate")
        let clean = try DatasetStore.read(from: ctx.upstreamFolder("ingest"))
        var indices = Array(clean.train.labels.indices)
        if let limit = s["train_limit"]?.intValue, limit < indices.count {
            var rng = SeededRNG(seed: m.seed, stream: "surrogate-subset")
            indices = rng.permutation(indices.count).prefix(limit).sorted()
        }
        let net = SurrogateStage.network(m, channels: clean.train.channels, classes: clean.classNames.count)
        if let path = s["checkpoint"]?.stringValue {
            // A model the user brings: validated against the dataset's shape, scored, copied.
            do { try SafeTensors.load(into: net, from: path) } catch {
                throw StageError.failed(stage: name, reason: "surrogate.checkpoint: \(error)")
            }
            let ca = Metrics.cleanAccuracy(predictions: try Evaluation.predict(net, clean.test), labels: clean.test.labels)
            ctx.log(String(format: "surrogate from %@: CA %.2f%%", path, ca * 100))
            try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name, "source": path])
            try TrainingSupport.writeTiming(ctx, [])
            try TrainingSupport.writeMetrics(ctx, ["curve": .array([]), "final": .object(["ca": .number(TrainingSupport.round4(ca))]),
                                                   "checkpoint": .string(path)])
            return
        }
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name)
        let epochs = s["epochs"]!.intValue!, base = Float(s["lr"]!.doubleValue!), drop = s["lr_drop"]!.intValue!
        let aug = TrainingSupport.augmentation(s["augment"]!.boolValue!)
        let steps = (indices.count + trainer.settings.batchSize - 1) / trainer.settings.batchSize
        var curve: [JSON] = [], seconds: [Double] = []
        var ca = 0.0
        for e in 1...epochs {
            let t0 = Date(), lr = TrainingSupport.lr(base, drop: drop, epoch: e - 1)
            let bar = ctx.progress("surrogate epoch \(e)/\(epochs)", total: steps)
            let loss = try trainer.epoch(clean.train, indices: indices, objective: .crossEntropy, lr: lr, augment: aug, shuffle: true,
                                         stage: name, epoch: e) { done, _ in bar.update(done); return true }
            let preds = try Evaluation.predict(net, clean.test)
            ca = Metrics.cleanAccuracy(predictions: preds, labels: clean.test.labels)
            curve.append(.object(["phase": .string(name), "epoch": .number(Double(e)), "lr": .number(Double(lr)),
                                  "loss": .number((loss * 1e5).rounded() / 1e5), "ca": .number(TrainingSupport.round4(ca))]))
            seconds.append(Date().timeIntervalSince(t0))
            ctx.log(String(format: "surrogate epoch %d: loss %.4f, CA %.2f%%", e, loss, ca * 100))
        }
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try TrainingSupport.writeTiming(ctx, seconds)
        try TrainingSupport.writeMetrics(ctx, ["curve": .array(curve), "final": .object(["ca": .number(TrainingSupport.round4(ca))]),
                                               "train_count": .number(Double(indices.count))])
    }
}
