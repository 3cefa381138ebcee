import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// Where the training stages read their data: the poison stage's output (a run with an attack
/// section), or the ingested dataset as given (data the user brings) with the trigger stage's
/// triggered test set when the manifest has an `evaluation` section.
enum DataOrigin: Sendable, Equatable {
    case poisoned
    case given(triggered: Bool)

    static func of(_ m: Manifest) -> DataOrigin {
        m.config.attack != nil ? .poisoned : .given(triggered: m.config.evaluation != nil)
    }

    /// The stage whose folder holds the training and test sets.
    var datasetStage: String { self == .poisoned ? "poison" : "ingest" }
    /// The stage whose folder holds the triggered test set, if any.
    var triggeredStage: String? {
        switch self {
        case .poisoned: return "poison"
        case .given(let t): return t ? TriggerStage.stageName : nil
        }
    }
    /// The upstream stages a training stage reads its data from.
    var stages: [String] { [datasetStage] + (triggeredStage.map { $0 == datasetStage ? [] : [$0] } ?? []) }
}

/// What the training stages read: the training set (poisoned, or as given), the clean test
/// set, the triggered test set when there is one, and what is known of the attack.
struct TrainingData {
    let dataset: Dataset
    let triggered: DatasetSplit?
    /// attack.json (runs with an attack section).
    let attack: AttackRecord<String>?
    /// trigger.json (data brought with an `evaluation` section).
    let trigger: TriggerRecord?
    /// The all-to-one target the triggered test set measures, nil for all-to-all or without one.
    var target: Int? {
        if let a = attack { return a.mode == "all-to-one" ? a.target : nil }
        return trigger?.target
    }

    static func load(_ ctx: StageContext, _ origin: DataOrigin) throws -> TrainingData {
        let dataset = try DatasetStore.read(from: ctx.upstreamFolder(origin.datasetStage))
        switch origin {
        case .poisoned:
            let folder = ctx.upstreamFolder("poison")
            return TrainingData(dataset: dataset, triggered: try DatasetStore.readSplit(name: "triggered_test", from: folder),
                                attack: try OutputFile.read(AttackRecord<String>.self, from: folder + "/attack.json"), trigger: nil)
        case .given(let withTrigger):
            guard withTrigger else { return TrainingData(dataset: dataset, triggered: nil, attack: nil, trigger: nil) }
            let folder = ctx.upstreamFolder(TriggerStage.stageName)
            return TrainingData(dataset: dataset, triggered: try DatasetStore.readSplit(name: "triggered_test", from: folder), attack: nil,
                                trigger: try OutputFile.read(TriggerRecord.self, from: folder + "/" + TriggerStage.recordFile))
        }
    }

    func score(_ net: Network, group: any Collective) throws -> ModelScores {
        try Evaluation.score(net, test: dataset.test, triggered: triggered, target: target, group: group)
    }
}

enum TrainingSupport {
    /// The parameters of a stage that runs the engine, with every engine setting that changes
    /// the bits: `Engine.numericsVersion` when it is above 1 (absent means 1, so the keys of runs
    /// cached before the field existed still hold), and the worker count (the order of the
    /// engine's reductions) as `engine_workers` unless the parameters hold `model.threads`, and
    /// the rank count (`ranks`, which splits every batch's sums) when above 1, and the OpenBLAS core
    /// (`blas_core`): another core's sgemm sums in another order, so a run folder carried to a
    /// machine of another CPU kind is recomputed there rather than trusted. The engine's own
    /// kernel set is not in it: the AVX-512 kernels compute the AVX2 kernels' bits.
    static func keyed(_ parameters: [String: JSON], _ m: Manifest) -> JSON {
        var p = parameters
        if Engine.numericsVersion > 1 { p["numerics"] = .number(Double(Engine.numericsVersion)) }
        p["blas_core"] = .string(BLAS.coreName)
        // with `model.shards` the decomposition is in the model section, whatever runs it
        if m.ranks > 1 && m.config.model.shards == nil { p["ranks"] = .number(Double(m.ranks)) }
        if p["model"]?["threads"] == nil { p["engine_workers"] = .number(Double(m.engineWorkers)) }
        return .object(p)
    }

    static func network(_ m: Manifest, _ ds: Dataset, stream: String) throws -> Network {
        let arch = m.config.model.architecture
        if let c = m.config.model.inputChannels, c != ds.train.channels {
            throw StageError.failed(stage: stream, reason: "model.input_channels \(c) does not match the dataset's \(ds.train.channels) channels")
        }
        var rng = SeededRNG(seed: m.seed, stream: "model-" + stream)
        return arch.build(inputChannels: ds.train.channels, numClasses: ds.classNames.count, seed: rng.next(), engine: m.engine)
    }

    static func settings(_ m: Manifest) -> OptimiserSettings { m.config.model.optimiser }

    /// Optimiser steps in one epoch over `count` samples.
    static func steps(_ count: Int, _ trainer: Trainer) -> Int { (count + trainer.settings.batchSize - 1) / trainer.settings.batchSize }

    static func augmentation(_ on: Bool) -> Augmentation { on ? .reference : .none }

    /// lr for a 0-based epoch, multiplied by 0.1 once `drop` epochs are done (0: never).
    static func lr(_ base: Float, drop: Int, epoch: Int) -> Float {
        drop > 0 ? LRSchedule.multiStep(base: base, milestones: [drop], gamma: 0.1).lr(epoch: epoch) : base
    }

    static func round4(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }

    /// Wall seconds per epoch, written to the volatile `timing.json`.
    static func writeTiming(_ ctx: StageContext, _ seconds: [Double]) throws {
        try OutputFile.write(Timing(epochSeconds: seconds.map { ($0 * 100).rounded() / 100 }), to: ctx.workFolder + "/timing.json")
    }

    static func writeMetrics<M: Encodable>(_ ctx: StageContext, _ metrics: M) throws {
        try OutputFile.write(metrics, to: ctx.workFolder + "/metrics.json")
    }
}
