import ABLNet
import Foundation

/// `attack.json`: what the poison stage did, in numbers.
struct AttackRecord: Codable, Sendable {
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
    /// The surrogate model file, for attacks that optimise against one.
    var surrogate: String?

    enum CodingKeys: String, CodingKey {
        case kind, name, mode, target, rate, poisoned, parameters, details, surrogate
        case labelKind = "label_kind", targetName = "target_name", rateCounts = "rate_counts"
        case poisonedShareOfTrainingSet = "poisoned_share_of_training_set", trainCount = "train_count", triggeredTestCount = "triggered_test_count"
    }
}
