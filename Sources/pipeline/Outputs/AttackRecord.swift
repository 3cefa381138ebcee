import ABLNet
import CanonicalJSON
import Foundation

/// `attack.json` (`AttackRecord<String>`, the surrogate model's path) and the report's
/// `attack` (`AttackRecord<SurrogateSummary>`): what the poison stage did, in numbers.
struct AttackRecord<Surrogate: Codable & Sendable>: Codable, Sendable {
    var kind: String
    var name: String
    var labelKind: String
    var mode: String
    var target: Int
    var targetName: String
    var rate: Double
    /// "whole training set" or "target class".
    var rateCounts: String
    var poisoned: Int
    var poisonedShareOfTrainingSet: Double
    var trainCount: Int
    var triggeredTestCount: Int
    /// The attack section as resolved.
    var parameters: JSON
    /// Optimised attacks: their figures (docs/ATTACKS.md).
    var details: [String: JSON]?
    /// Attacks that optimise against a surrogate: its file (attack.json) or its summary (report.json).
    var surrogate: Surrogate?

    /// The same record with another surrogate entry.
    func with<S>(surrogate: S?) -> AttackRecord<S> {
        AttackRecord<S>(kind: kind, name: name, labelKind: labelKind, mode: mode, target: target, targetName: targetName, rate: rate,
                        rateCounts: rateCounts, poisoned: poisoned, poisonedShareOfTrainingSet: poisonedShareOfTrainingSet,
                        trainCount: trainCount, triggeredTestCount: triggeredTestCount, parameters: parameters, details: details, surrogate: surrogate)
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, mode, target, rate, poisoned, parameters, details, surrogate
        case labelKind = "label_kind", targetName = "target_name", rateCounts = "rate_counts"
        case poisonedShareOfTrainingSet = "poisoned_share_of_training_set", trainCount = "train_count", triggeredTestCount = "triggered_test_count"
    }
}

/// The surrogate as report.json describes it.
struct SurrogateSummary: Codable, Sendable {
    var ca: Double?
    var architecture: String
}
