import ABLNet
import Foundation
import PoisonForge
import Sanitizer

extension IsolateStage {
    /// The isolation model's penultimate features of the training and the test set.
    static func features(_ net: Network, _ ds: Dataset, group: any Collective = SingleProcess()) throws -> Detection.Features {
        let train = try LinearProbe.features(net, ds.train, group: group), test = try LinearProbe.features(net, ds.test, group: group)
        return Detection.Features(train: train.values, test: test.values, width: train.width)
    }

    /// features.npy and test_features.npy (N x width float32) in the stage folder.
    static func saveFeatures(_ f: Detection.Features, to folder: String) throws {
        try NPY.write(float32: f.train, shape: [f.train.count / max(f.width, 1), f.width], to: folder + "/features.npy")
        try NPY.write(float32: f.test, shape: [f.test.count / max(f.width, 1), f.width], to: folder + "/test_features.npy")
    }

    /// The features saved by `saveFeatures`, or nil where the folder has none.
    static func savedFeatures(_ folder: String, trainCount: Int, testCount: Int) throws -> Detection.Features? {
        guard FileManager.default.fileExists(atPath: folder + "/features.npy") else { return nil }
        let a = try NPY.read(folder + "/features.npy"), b = try NPY.read(folder + "/test_features.npy")
        guard a.dtype == .float32, b.dtype == .float32, a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[1] else {
            throw StageError.runFolder("\(folder): features.npy and test_features.npy are not two float32 N x width arrays of one width")
        }
        guard a.shape[0] == trainCount, b.shape[0] == testCount else {
            throw StageError.runFolder("\(folder): features.npy and test_features.npy hold \(a.shape[0]) and \(b.shape[0]) rows for \(trainCount) training and \(testCount) test samples")
        }
        return Detection.Features(train: a.float32, test: b.float32, width: a.shape[1])
    }

    /// The detection verdict on the training set (nil with `isolate.detection` off, or when the
    /// test set gives too few labels to judge against), logged in plain words.
    static func verdict(_ s: IsolateConfig, losses: [Float], labels: [Int], testLosses: [Float], testLabels: [Int],
                        features: Detection.Features?, classNames: [String], log: (String) -> Void) -> Detection.Verdict? {
        guard s.detection != .off else { return nil }
        guard let v = Detection.judge(trainLosses: losses, trainLabels: labels, testLosses: testLosses, testLabels: testLabels,
                                      features: features, rule: s.detectionRule) else {
            log("detection: no verdict (fewer than 3 labels have 20 training and 10 test samples); isolation runs without one")
            return nil
        }
        func name(_ c: Int) -> String { c < classNames.count ? classNames[c] : String(c) }
        if let t = v.target, let e = v.strongest {
            log(String(format: "detection: backdoor found, target label %d (%@): %@ (%@ over %d label and signal pairs)",
                       t, name(t), DetectionRecord.Row(e).sentence, DetectionRecord.pText(v.familyPValue), v.evidence.count))
        } else if let e = v.strongest {
            log(String(format: "detection: no backdoor found; the largest excess is label %d (%@): %@ (%@ over %d label and signal pairs; a backdoor needs p <= %.2g and an excess of %.0f points)",
                       e.label, name(e.label), DetectionRecord.Row(e).sentence, DetectionRecord.pText(v.familyPValue), v.evidence.count,
                       v.rule.falsePositiveRate, v.rule.minExcess * 100))
        }
        return v
    }

    /// `isolate.rank_by: detection-signal`: when the verdict found the isolated target by its
    /// feature signal, the target's samples are taken by their distance from the label's test
    /// samples instead of by loss (`Isolation.byDistance`). Otherwise the selection stays.
    static func rankByDistance(_ sel: inout Isolation.Selection, _ s: IsolateConfig, verdict: Detection.Verdict?,
                               features: Detection.Features, _ ds: Dataset) {
        guard let v = verdict, v.backdoor, let t = sel.inferredTarget, sel.targetFromVerdict || sel.targetGiven,
              let strongest = v.evidence.filter({ $0.label == t }).min(by: { $0.pValue < $1.pValue }),
              strongest.signal == .featureDistance else { return }
        let labels = ds.train.labels
        guard let d = NeighbourDistance.scores(trainFeatures: features.train, trainLabels: labels, testFeatures: features.test,
                                               testLabels: ds.test.labels, width: features.width, only: t)[t] else { return }
        let rows = labels.indices.filter { labels[$0] == t }
        sel.indices = Isolation.byDistance(rows: rows, distances: d.train, threshold: strongest.at, total: labels.count,
                                           ratio: s.ratio, maxRatio: s.maxRatio)
        sel.distanceThreshold = strongest.at
        sel.mixture = nil
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
