import ABLNet
import Foundation
import Sanitizer

/// `report.json` (layout: docs/REPORT.md): one value that report.md, report.html and
/// `abl compare` all render, and that scripts read as JSON.
struct RunReport: Codable, Sendable {
    var format = "abl-report"
    var formatVersion = 1
    var run: String
    var title: String
    var versions: Versions
    var digests: Digests
    var attack: AttackRecord<SurrogateSummary>
    var models: Models
    var isolation: IsolationRecord
    /// The verdict on the training set (isolation.json's `detection`; absent with detection off).
    var detection: DetectionRecord?
    var labelBalance: LabelBalanceSummary?
    var curves: [String: [CurvePoint]]
    var stages: [String: StageSummary]
    var unlearning: Unlearning
    /// The resolved manifest.
    var parameters: JSON

    enum CodingKeys: String, CodingKey {
        case format, run, title, versions, digests, attack, models, isolation, detection, curves, stages, unlearning, parameters
        case formatVersion = "format_version", labelBalance = "label_balance"
    }

    /// What produced the numbers: the tool's release and commit, the compiler, the BLAS and the CPU.
    struct Versions: Codable, Sendable {
        var abl: String
        var commit: String
        var localChanges: Bool
        var swift: String
        var openblas: String
        var openblasCore: String
        var cpu: String
        var cpuFeatures: [String]
        var engineWorkers: Int
        /// How many processes (MPI ranks) trained the models together; absent in reports
        /// written before the field existed.
        var ranks: Int? = nil
        enum CodingKeys: String, CodingKey {
            case abl, commit, swift, openblas, cpu, localChanges = "local_changes", openblasCore = "openblas_core"
            case cpuFeatures = "cpu_features", engineWorkers = "engine_workers", ranks
        }

        /// This binary on this machine, run as `ranks` processes.
        static func current(ranks: Int) -> Versions {
            Versions(abl: ToolVersion.number, commit: ToolVersion.commit, localChanges: ToolVersion.modified, swift: ToolVersion.swift,
                     openblas: BLAS.config, openblasCore: BLAS.coreName, cpu: CPUFeatures.model, cpuFeatures: CPUFeatures.names,
                     engineWorkers: Engine.workers, ranks: ranks)
        }
    }

    /// SHA-256 of the files the numbers come from.
    struct Digests: Codable, Sendable {
        var poisonedTrainImages: String
        var poisonedTrainLabels: String
        var testImages: String
        var triggeredTestImages: String
        var cleanTrainImages: String
        /// abl, no_defense, isolation; clean and surrogate when present.
        var models: [String: String]
        enum CodingKeys: String, CodingKey {
            case models, poisonedTrainImages = "poisoned_train_images", poisonedTrainLabels = "poisoned_train_labels"
            case testImages = "test_images", triggeredTestImages = "triggered_test_images", cleanTrainImages = "clean_train_images"
        }
    }

    struct Models: Codable, Sendable {
        var noDefense: Scores
        /// With `der` against the no-defense model.
        var abl: Scores
        var isolationModel: Scores
        var clean: Scores?
        enum CodingKeys: String, CodingKey { case abl, clean, noDefense = "no_defense", isolationModel = "isolation_model" }

        /// The rows of the model tables, in order, with their labels.
        var rows: [(label: String, scores: Scores)] {
            [("no defense", noDefense), ("ABL", abl)] + (clean.map { [("clean model", $0)] } ?? [])
        }
    }

    struct StageSummary: Codable, Sendable {
        var durationS: Double
        var cacheKey: String
        var ended: String
        var status: String
        enum CodingKeys: String, CodingKey { case ended, status, durationS = "duration_s", cacheKey = "cache_key" }
    }

    struct Unlearning: Codable, Sendable {
        var mode: String
        var isolatedAccuracy: Double?
        /// Written as null when the rule never stopped the ascent.
        var ascentStopped: AscentStop?
        enum CodingKeys: String, CodingKey { case mode, isolatedAccuracy = "isolated_accuracy", ascentStopped = "ascent_stopped" }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mode, forKey: .mode)
            try c.encode(isolatedAccuracy, forKey: .isolatedAccuracy)
            try c.encode(ascentStopped, forKey: .ascentStopped)
        }
    }
}

/// Samples per label of the poisoned training set (`Sanitizer.LabelBalance`).
struct LabelBalanceSummary: Codable, Sendable {
    var counts: [Int]
    var median: Double
    var largest: Int
    var largestName: String
    /// counts[largest] / median.
    var excess: Double
    /// excess >= 1.5: dirty-label poisoning inflates its target this way.
    var flagged: Bool
    enum CodingKeys: String, CodingKey { case counts, median, largest, excess, flagged, largestName = "largest_name" }

    init(_ b: LabelBalance, classNames: [String]) {
        counts = b.counts; median = b.median; largest = b.largest
        largestName = b.largest < classNames.count ? classNames[b.largest] : ""
        excess = TrainingSupport.round4(b.excess); flagged = b.flagged
    }
}

/// How every renderer prints a fraction: a percentage with two decimals, "–" when absent.
enum Percent {
    static func text(_ v: Double?, unit: Bool = true) -> String {
        v.map { String(format: unit ? "%.2f %%" : "%.2f", $0 * 100) } ?? "–"
    }
}
