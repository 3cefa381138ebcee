import ABLNet
import Foundation
import PoisonForge
import Sanitizer

/// What the training stages read from the poison stage, and helpers they share.
struct PoisonedRun {
    let dataset: Dataset           // poisoned train, clean test
    let triggered: DatasetSplit    // triggered test set
    let attack: JSON               // attack.json
    /// The all-to-one target, nil for all-to-all.
    var target: Int? { attack["mode"]?.stringValue == "all-to-one" ? attack["target"]?.intValue : nil }

    static func load(_ ctx: StageContext) throws -> PoisonedRun {
        let folder = ctx.upstreamFolder("poison")
        let attack = try JSON.parse(bytes: (try? InputFile.read(folder + "/attack.json")) ?? [])
        return PoisonedRun(dataset: try DatasetStore.read(from: folder),
                           triggered: try DatasetStore.readSplit(name: "triggered_test", from: folder), attack: attack)
    }

    func score(_ net: Network) throws -> ModelScores {
        try Evaluation.score(net, test: dataset.test, triggered: triggered, target: target)
    }
}

enum TrainingSupport {
    /// The parameters of a stage that runs the engine, with `Engine.numericsVersion` when it is
    /// above 1 (absent means 1, so the keys of runs cached before the field existed still hold).
    static func keyed(_ parameters: [String: JSON]) -> JSON {
        var p = parameters
        if Engine.numericsVersion > 1 { p["numerics"] = .number(Double(Engine.numericsVersion)) }
        return .object(p)
    }

    static func network(_ m: Manifest, _ ds: Dataset, stream: String) throws -> Network {
        let arch = Architecture(rawValue: m.section("model")["architecture"]?.stringValue ?? "wrn-16-1") ?? .wrn16_1
        if let c = m.section("model")["input_channels"]?.intValue, c != ds.train.channels {
            throw StageError.failed(stage: stream, reason: "model.input_channels \(c) does not match the dataset's \(ds.train.channels) channels")
        }
        var rng = SeededRNG(seed: m.seed, stream: "model-" + stream)
        return arch.build(inputChannels: ds.train.channels, numClasses: ds.classNames.count, seed: rng.next())
    }

    static func settings(_ m: Manifest) -> OptimiserSettings {
        let s = m.section("model")
        var o = OptimiserSettings()
        o.batchSize = s["batch_size"]?.intValue ?? 128
        o.momentum = Float(s["momentum"]?.doubleValue ?? 0.9)
        o.nesterov = s["nesterov"]?.boolValue ?? true
        o.weightDecay = Float(s["weight_decay"]?.doubleValue ?? 1e-4)
        return o
    }

    static func augmentation(_ on: Bool) -> Augmentation { on ? .reference : .none }

    /// lr for a 0-based epoch, multiplied by 0.1 once `drop` epochs are done (0: never).
    static func lr(_ base: Float, drop: Int, epoch: Int) -> Float {
        drop > 0 ? LRSchedule.multiStep(base: base, milestones: [drop], gamma: 0.1).lr(epoch: epoch) : base
    }

    static func scoresJSON(_ s: ModelScores) -> JSON {
        .object(["ca": .number(round4(s.ca)), "ca_nt": .number(round4(s.caNT)), "asr": .number(round4(s.asr)), "ra": .number(round4(s.ra))])
    }

    static func round4(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }

    /// One point of a per-epoch curve (deterministic: no wall time; that goes to timing.json).
    static func point(phase: String, epoch: Int, lr: Float, loss: Double, scores: ModelScores) -> JSON {
        .object(["phase": .string(phase), "epoch": .number(Double(epoch)), "lr": .number(Double(lr)),
                 "loss": .number((loss * 1e5).rounded() / 1e5), "ca": .number(round4(scores.ca)), "asr": .number(round4(scores.asr))])
    }

    /// Wall seconds per epoch, written to the volatile `timing.json`.
    static func writeTiming(_ ctx: StageContext, _ seconds: [Double]) throws {
        let t = JSON.object(["epoch_seconds": .array(seconds.map { .number(($0 * 100).rounded() / 100) })])
        try AtomicFile.write(Data(t.pretty.utf8), to: ctx.workFolder + "/timing.json")
    }

    static func writeMetrics(_ ctx: StageContext, _ o: [String: JSON]) throws {
        try AtomicFile.write(Data(JSON.object(o).pretty.utf8), to: ctx.workFolder + "/metrics.json")
    }
}
