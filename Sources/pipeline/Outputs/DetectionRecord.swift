import Foundation
import Sanitizer

/// The verdict on a training set, as isolation.json and report.json carry it: whether it holds a
/// backdoor, the label named, and the evidence (docs/DETECTION.md).
struct DetectionRecord: Codable, Sendable, Equatable {
    /// "test-reference", or "none" when the test set gave too few labels to judge against.
    var method: String
    /// Nil when there was no verdict (`method` "none").
    var backdoor: Bool?
    var target: Int?
    /// The smallest p-value over labels times their number, and the rule it was held against.
    var familyPValue: Double?
    var falsePositiveRate: Double
    var minExcess: Double
    var tailQuantile: Double
    var generalisationShift: Double?
    /// What the verdict did to isolation: "isolated the named target", "isolated nothing", ...
    var action: String
    /// Per label: the evidence rows, strongest first.
    var labels: [Row]

    struct Row: Codable, Sendable, Equatable {
        var label: Int
        var trainCount: Int
        var testCount: Int
        var excess: Double
        var atLoss: Double
        var trainShareBelow: Double
        var testShareBelow: Double
        var pValue: Double
        var shareZ: Double
        enum CodingKeys: String, CodingKey {
            case label, excess
            case trainCount = "train_count", testCount = "test_count", atLoss = "at_loss", trainShareBelow = "train_share_below"
            case testShareBelow = "test_share_below", pValue = "p_value", shareZ = "share_z"
        }

        init(_ e: Detection.LabelEvidence) {
            func r(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
            label = e.label; trainCount = e.trainCount; testCount = e.testCount; excess = r(e.excess)
            atLoss = Double(Float(e.atLoss)); trainShareBelow = r(e.trainShareBelow); testShareBelow = r(e.testShareBelow)
            pValue = Double(Float(e.pValue)); shareZ = (e.shareZ * 100).rounded() / 100
        }
    }

    enum CodingKeys: String, CodingKey {
        case method, backdoor, target, action, labels
        case familyPValue = "family_p_value", falsePositiveRate = "false_positive_rate", minExcess = "min_excess"
        case tailQuantile = "tail_quantile", generalisationShift = "generalisation_shift"
    }

    init(_ verdict: Detection.Verdict?, rule: Detection.Rule, action: String) {
        method = verdict == nil ? "none" : Detection.Mode.testReference.rawValue
        backdoor = verdict?.backdoor
        target = verdict?.target
        familyPValue = verdict.map { Double(Float($0.familyPValue)) }
        falsePositiveRate = rule.falsePositiveRate
        minExcess = rule.minExcess
        tailQuantile = rule.tailQuantile
        generalisationShift = verdict.map { ($0.generalisationShift * 10000).rounded() / 10000 }
        self.action = action
        labels = (verdict?.evidence ?? []).sorted { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : $0.label < $1.label }.map(Row.init)
    }

    /// The strongest label's evidence (the named target's when a backdoor was found).
    var strongest: Row? { labels.first }
}
