import ABLNet
import Datasets

/// The four model metrics of ABL-METHOD.md §2, as fractions in [0, 1].
public struct ModelScores: Sendable, Equatable {
    public var ca: Double
    public var caNT: Double
    /// Absent without a triggered test set.
    public var asr: Double?
    /// Absent without a triggered test set, or when its images' true labels are unknown.
    public var ra: Double?

    public init(ca: Double, caNT: Double, asr: Double?, ra: Double?) {
        self.ca = ca; self.caNT = caNT; self.asr = asr; self.ra = ra
    }
}

public enum Evaluation {
    /// Predictions of `net` on a split (eval mode), each rank of `group` running a share.
    public static func predict(_ net: Network, _ s: DatasetSplit, group: any Collective = SingleProcess()) throws -> [Int] {
        try Evaluator.run(net, pixels: s.pixels, count: s.count, height: s.height, width: s.width, channels: s.channels, group: group).predictions
    }

    /// Per-sample cross-entropy losses of `net` on a split with its labels (eval mode, no augmentation).
    public static func losses(_ net: Network, _ s: DatasetSplit, group: any Collective = SingleProcess(),
                              progress: ((Int, Int) -> Void)? = nil) throws -> [Float] {
        try Evaluator.run(net, pixels: s.pixels, count: s.count, height: s.height, width: s.width, channels: s.channels,
                          labels: s.labels, group: group, progress: progress).losses
    }

    /// CA and CA-nt on the clean test set, ASR and RA on the triggered test set (whose labels
    /// are the attack targets and whose `poison.originalLabels` are the true labels).
    /// `target` is the all-to-one target (nil for all-to-all: CA-nt is then CA).
    public static func score(_ net: Network, test: DatasetSplit, triggered: DatasetSplit?, target: Int?,
                             group: any Collective = SingleProcess()) throws -> ModelScores {
        score(testPredictions: try predict(net, test, group: group), test: test,
              triggeredPredictions: try triggered.map { try predict(net, $0, group: group) } ?? [],
              triggered: triggered, target: target)
    }

    /// The same four metrics from predictions already made (by any model) on the two splits.
    /// ASR is the share of triggered images predicted as their attack label; RA the share
    /// predicted as their true label (`triggered.poison.originalLabels`), absent when those are
    /// unknown. Both are absent without a triggered set, or with an empty one.
    public static func score(testPredictions p: [Int], test: DatasetSplit, triggeredPredictions q: [Int],
                             triggered: DatasetSplit?, target: Int?) -> ModelScores {
        let ca = Metrics.cleanAccuracy(predictions: p, labels: test.labels)
        let caNT = target.map { Metrics.cleanAccuracyNonTarget(predictions: p, labels: test.labels, target: $0) } ?? ca
        guard let t = triggered, t.count > 0 else { return ModelScores(ca: ca, caNT: caNT, asr: nil, ra: nil) }
        let n = Double(t.count)
        let asr = Double(zip(q, t.labels).filter { $0 == $1 }.count) / n
        let ra = t.poison.map { info in Double(zip(q, info.originalLabels).filter { $0 == $1 }.count) / n }
        return ModelScores(ca: ca, caNT: caNT, asr: asr, ra: ra)
    }
}
