import Foundation
import Sanitizer

extension IsolateStage {
    /// The detection verdict on the training set (nil with `isolate.detection` off, or when the
    /// test set gives too few labels to judge against), logged in plain words.
    static func verdict(_ s: IsolateConfig, losses: [Float], labels: [Int], testLosses: [Float], testLabels: [Int],
                        classNames: [String], log: (String) -> Void) -> Detection.Verdict? {
        guard s.detection != .off else { return nil }
        guard let v = Detection.judge(trainLosses: losses, trainLabels: labels, testLosses: testLosses, testLabels: testLabels, rule: s.detectionRule) else {
            log("detection: no verdict (fewer than 3 labels have 20 training and 10 test samples); isolation runs without one")
            return nil
        }
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : String(c) }
        if let t = v.target, let e = v.strongest {
            log(String(format: "detection: backdoor found, target label %d (%@): %.1f%% of its training samples have a loss below %.3g, against %.1f%% of its test samples (p = %.2g over %d labels)",
                       t, name(t), e.trainShareBelow * 100, e.atLoss, e.testShareBelow * 100, v.familyPValue, v.evidence.count))
        } else if let e = v.strongest {
            log(String(format: "detection: no backdoor found; the largest excess is label %d (%@): %.1f%% of its training samples below %.3g against %.1f%% of its test samples (p = %.2g over %d labels, needs <= %.2g and an excess of %.0f%%)",
                       e.label, name(e.label), e.trainShareBelow * 100, e.atLoss, e.testShareBelow * 100, v.familyPValue, v.evidence.count,
                       v.rule.falsePositiveRate, v.rule.minExcess * 100))
        }
        return v
    }

    /// What the verdict did to isolation, in words for isolation.json and the report.
    static func action(_ sel: Isolation.Selection, verdict: Detection.Verdict?, whenClean: Detection.WhenClean) -> String {
        guard let v = verdict else { return "no verdict: isolated without one" }
        if !v.backdoor { return sel.skippedAsClean ? "isolated nothing" : "isolated anyway (isolate.when_clean)" }
        if sel.targetFromVerdict { return "isolated the named target" }
        if sel.targetGiven { return "isolated the target given by the manifest" }
        return "isolated by the strategy"
    }
}
