import ABLNet
import Foundation
import PoisonForge
import Sanitizer

/// Standard training without a defense: on the poisoned set (`baseline`, the "no defense"
/// row), or on the clean set (`clean`, the clean-model reference).
struct BaselineStage: Stage {
    let onClean: Bool
    var name: String { onClean ? "clean" : "baseline" }
    var upstream: [String] { onClean ? ["ingest", "poison"] : ["poison"] }
    /// 2: wall times in the volatile timing.json.
    let formatVersion = 2

    func parameters(_ m: Manifest) -> JSON {
        var b = m.section("baseline").objectValue ?? [:]
        b["clean"] = nil // whether the clean stage exists does not change what the no-defense stage computes
        return TrainingSupport.keyed(["model": m.section("model"), "baseline": .object(b), "seed": m.resolved["seed"]!])
    }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "metrics.json"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.config.baseline
        let data = try PoisonedRun.load(ctx)
        let train = onClean ? try DatasetStore.read(from: ctx.upstreamFolder("ingest")).train : data.dataset.train
        let net = try TrainingSupport.network(m, data.dataset, stream: name)
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name)
        let epochs = s.epochs, base = Float(s.lr), drop = s.lrDrop
        let aug = TrainingSupport.augmentation(s.augment)
        let steps = (train.count + trainer.settings.batchSize - 1) / trainer.settings.batchSize
        var curve: [CurvePoint] = []
        var seconds: [Double] = []
        for e in 1...epochs {
            let t0 = Date(), lr = TrainingSupport.lr(base, drop: drop, epoch: e - 1)
            let bar = ctx.progress("\(name) epoch \(e)/\(epochs)", total: steps)
            let loss = try trainer.epoch(train, objective: .crossEntropy, lr: lr, augment: aug, shuffle: true, stage: name, epoch: e) { done, _ in
                bar.update(done); return true
            }
            let scores = try data.score(net)
            curve.append(TrainingSupport.point(phase: name, epoch: e, lr: lr, loss: loss, scores: scores)); seconds.append(Date().timeIntervalSince(t0))
            ctx.log(String(format: "%@ epoch %d: loss %.4f, CA %.2f%%, ASR %.2f%%", name, e, loss, scores.ca * 100, scores.asr * 100))
        }
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try TrainingSupport.writeTiming(ctx, seconds)
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: curve, final: Scores(try data.score(net))))
    }
}
