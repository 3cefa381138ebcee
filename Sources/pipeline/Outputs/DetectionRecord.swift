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
    var tailQuantiles: [Double]
    /// Per signal, the generalisation shift taken off the training values (log units).
    var shifts: [String: Double]?
    /// What the verdict did to isolation: "isolated the named target", "isolated nothing", ...
    var action: String
    /// Per label and signal: the evidence rows, strongest first.
    var labels: [Row]

    struct Row: Codable, Sendable, Equatable {
        var label: Int
        /// "loss" (at: a loss; the shares are at or below it) or "feature-distance" (at: a mean
        /// distance to the label's nearest test samples; the shares are at or beyond it).
        var signal: String
        var trainCount: Int
        var testCount: Int
        var excess: Double
        var at: Double
        var trainShare: Double
        var testShare: Double
        var pValue: Double
        var shareZ: Double
        enum CodingKeys: String, CodingKey {
            case label, signal, excess, at
            case trainCount = "train_count", testCount = "test_count", trainShare = "train_share"
            case testShare = "test_share", pValue = "p_value", shareZ = "share_z"
        }

        init(_ e: Detection.LabelEvidence) {
            func r(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
            label = e.label; signal = e.signal.rawValue; trainCount = e.trainCount; testCount = e.testCount; excess = r(e.excess)
            at = Double(Float(e.at)); trainShare = r(e.trainShare); testShare = r(e.testShare)
            pValue = DetectionRecord.significant(e.pValue); shareZ = (e.shareZ * 100).rounded() / 100
        }

        /// "12.3 % of its training samples have a loss at or below 0.001, against 0.5 % of its test samples".
        var sentence: String {
            let side = signal == Detection.Signal.loss.rawValue
                ? String(format: "have a loss at or below %.3g", at)
                : String(format: "lie at least %.3g from the label's nearest test samples in the model's features", at)
            return String(format: "%.1f %% of its training samples %@, against %.1f %% of its test samples", trainShare * 100, side, testShare * 100)
        }
    }

    enum CodingKeys: String, CodingKey {
        case method, backdoor, target, action, labels
        case familyPValue = "family_p_value", falsePositiveRate = "false_positive_rate", minExcess = "min_excess"
        case tailQuantiles = "tail_quantiles", shifts
    }

    init(_ verdict: Detection.Verdict?, rule: Detection.Rule, action: String) {
        method = verdict == nil ? "none" : Detection.Mode.testReference.rawValue
        backdoor = verdict?.backdoor
        target = verdict?.target
        familyPValue = verdict.map { DetectionRecord.significant($0.familyPValue) }
        falsePositiveRate = rule.falsePositiveRate
        minExcess = rule.minExcess
        tailQuantiles = rule.tailQuantiles
        shifts = verdict.map { $0.shifts.mapValues { ($0 * 10000).rounded() / 10000 } }
        self.action = action
        labels = (verdict?.evidence ?? []).sorted { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : $0.label < $1.label }.map(Row.init)
    }

    /// A probability to 3 significant digits (a Float would flush those below 1e-45 to 0).
    static func significant(_ p: Double) -> Double { Double(String(format: "%.3g", p)) ?? p }

    /// "p = 3.1e-12", or "p < 1e-300" for a probability below the range of a Double.
    static func pText(_ p: Double) -> String { p == 0 ? "p < 1e-300" : String(format: "p = %.2g", p) }

    /// The strongest label's evidence (the named target's when a backdoor was found).
    var strongest: Row? { labels.first }
}
