import ABLNet
import CanonicalJSON
import Foundation
import Sanitizer

/// `report.json` (layout: docs/REPORT.md): one value that report.md, report.html and
/// `abl compare` all render, and that scripts read as JSON.
struct RunReport: Codable, Sendable {
    var format = "abl-report"
    /// 2: `attack`, `models.no_defense`, ASR and RA optional (absent when unknown); `evaluation`;
    /// digests of the training set ABL ran on (`train_images`).
    var formatVersion = 2
    var run: String
    var title: String
    var versions: Versions
    var digests: Digests
    /// The attack the poison stage applied; absent for data the user brings.
    var attack: AttackRecord<SurrogateSummary>?
    /// Data the user brings: where the triggered test set came from (absent without one).
    var evaluation: TriggerRecord?
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
        case format, run, title, versions, digests, attack, evaluation, models, isolation, detection, curves, stages, unlearning, parameters
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
        static func current(ranks: Int, engineWorkers: Int) -> Versions {
            Versions(abl: ToolVersion.number, commit: ToolVersion.commit, localChanges: ToolVersion.modified, swift: ToolVersion.swift,
                     openblas: BLAS.config, openblasCore: BLAS.coreName, cpu: CPUFeatures.model, cpuFeatures: CPUFeatures.names,
                     engineWorkers: engineWorkers, ranks: ranks)
        }
    }

    /// SHA-256 of the files the numbers come from.
    struct Digests: Codable, Sendable {
        /// The training set every model trained on (poisoned by the attack, or as given).
        var trainImages: String
        var trainLabels: String
        var testImages: String
        /// Absent without a triggered test set.
        var triggeredTestImages: String?
        /// Runs with an attack: the ingested training set before poisoning.
        var cleanTrainImages: String?
        /// abl, isolation; no_defense, clean and surrogate when present.
        var models: [String: String]
        enum CodingKeys: String, CodingKey {
            case models, trainImages = "train_images", trainLabels = "train_labels"
            case testImages = "test_images", triggeredTestImages = "triggered_test_images", cleanTrainImages = "clean_train_images"
        }
    }

    struct Models: Codable, Sendable {
        /// Absent when the no-defense model was not trained (data brought without `evaluation`).
        var noDefense: Scores?
        /// With `der` against the no-defense model.
        var abl: Scores
        var isolationModel: Scores
        var clean: Scores?
        enum CodingKeys: String, CodingKey { case abl, clean, noDefense = "no_defense", isolationModel = "isolation_model" }

        /// The label of the ABL model's row, the one row with a DER.
        static let ablRow = "ABL"

        /// The rows of the model tables, in order, with their labels.
        var rows: [(label: String, scores: Scores)] {
            (noDefense.map { [("no defense", $0)] } ?? []) + [(Models.ablRow, abl)] + (clean.map { [("clean model", $0)] } ?? [])
        }
    }

    struct StageSummary: Codable, Sendable {
        var durationS: Double
        var cacheKey: String
        var ended: String
        var status: String
        /// The binary and CPU that computed the stage (its `stage.json`); absent for stages
        /// recorded before the field existed.
        var producedBy: ProducedBy? = nil
        enum CodingKeys: String, CodingKey { case ended, status, durationS = "duration_s", cacheKey = "cache_key", producedBy = "produced_by" }
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
