import Foundation

/// Whether a training set holds a backdoor, and which label it targets, judged against a clean
/// reference: the same label's samples in the test set.
///
/// A backdoor makes its poisoned training samples far easier than anything else, and all of them
/// carry one label. A naturally easy class is easy in the test set too; a backdoor's low-loss
/// samples exist only in training. So for each label the detector compares the isolation model's
/// log-losses on the label's training samples with its log-losses on the label's test samples,
/// in the lower tail (up to the test's `tailQuantile`), where a backdoor puts its samples: the
/// excess `D` is the largest amount by which the training share below some loss exceeds the test
/// share below it (a one-sided two-sample Kolmogorov-Smirnov statistic, restricted to the tail).
/// The model saw its training samples, so they sit a little lower than the test samples for every
/// label; the median of that shift over the labels (`generalisationShift`) is taken off the
/// training log-losses before they are compared, so only a label's own excess counts. Without a
/// backdoor in the label, `sqrt(nm/(n+m)) D` exceeds `x` with probability at most about
/// `exp(-2x^2)` (Smirnov's bound; restricting to a tail only lowers it). A label is named when
/// that probability, times the number of labels compared, is at most `falsePositiveRate`, and the
/// excess is at least `minExcess` (so the slight generalisation gap of a large set is not taken
/// for a backdoor).
public enum Detection {
    /// Whether the isolate stage judges the training set before isolating.
    public enum Mode: String, Sendable, CaseIterable, Codable {
        /// Against each label's test samples (the test set must be clean and hold the labels).
        case testReference = "test-reference"
        /// No verdict: isolation always runs, its target chosen by the loss statistics.
        case off
    }

    /// What isolation does when the verdict is "no backdoor".
    public enum WhenClean: String, Sendable, CaseIterable, Codable {
        /// Nothing is isolated, and unlearning trains an ordinary model: ABL on clean data costs nothing.
        case isolateNothing = "isolate-nothing"
        /// Isolate as without a verdict (the loss statistics choose the target label).
        case isolateAnyway = "isolate-anyway"
    }

    /// The knobs of the decision; `default` is the calibrated rule (docs/DETECTION.md).
    public struct Rule: Sendable, Equatable, Codable {
        /// The chance that a clean set is judged backdoored, by the asymptotic bound (over all labels).
        public var falsePositiveRate: Double
        /// The least excess share of a label's training samples below a loss (0.05: 5 %).
        public var minExcess: Double

        /// The comparison covers losses up to this quantile of the label's test losses.
        public var tailQuantile: Double

        public init(falsePositiveRate: Double = 1e-4, minExcess: Double = 0.05, tailQuantile: Double = 0.25) {
            self.falsePositiveRate = falsePositiveRate
            self.minExcess = minExcess
            self.tailQuantile = tailQuantile
        }

        public static let `default` = Rule()
    }

    /// What one label shows.
    public struct LabelEvidence: Sendable, Equatable, Codable {
        public let label: Int
        public let trainCount: Int
        public let testCount: Int
        /// The largest excess of the training share over the test share below one loss, that loss,
        /// and the two shares there.
        public let excess: Double
        public let atLoss: Double
        public let trainShareBelow: Double
        public let testShareBelow: Double
        /// The tail probability of the excess under "no backdoor in this label" (one label).
        public let pValue: Double
        /// The label's share of the training set against its share of the test set, as a
        /// two-proportion z-score: dirty-label poisoning inflates its target's count.
        public let shareZ: Double
    }

    /// The verdict and everything it rests on.
    public struct Verdict: Sendable, Equatable, Codable {
        public let backdoor: Bool
        /// The label named as the target (nil when no backdoor is found).
        public let target: Int?
        /// The label with the smallest p-value, named or not, and the one after it.
        public let strongest: LabelEvidence?
        public let runnerUp: LabelEvidence?
        /// `strongest`'s p-value times the number of labels compared (at most 1).
        public let familyPValue: Double
        /// Per label, in label order (labels with fewer than 20 training or 10 test samples are
        /// left out: their distributions say little).
        public let evidence: [LabelEvidence]
        public let rule: Rule
        /// The median over labels of (median training log-loss - median test log-loss), taken
        /// off the training log-losses before the comparison (usually a little below 0).
        public let generalisationShift: Double
    }

    /// Judges the per-sample losses of the isolation model on the training set (`trainLosses`,
    /// `trainLabels`) against its losses on a clean test set. Nil when fewer than three labels
    /// have enough samples in both sets: there is then no reference to judge against.
    public static func judge(trainLosses: [Float], trainLabels: [Int], testLosses: [Float], testLabels: [Int],
                             rule: Rule = .default) -> Verdict? {
        let train = group(trainLosses, trainLabels), test = group(testLosses, testLabels)
        let trainTotal = Double(trainLosses.count), testTotal = Double(testLosses.count)
        let pairs = train.keys.sorted().compactMap { c -> (Int, [Double], [Double])? in
            guard let tr = train[c], tr.count >= 20, let te = test[c], te.count >= 10 else { return nil }
            return (c, tr.map(logLoss).sorted(), te.map(logLoss).sorted())
        }
        guard pairs.count >= 3 else { return nil }
        let shift = median(pairs.map { median($0.1) - median($0.2) })
        var evidence: [LabelEvidence] = []
        for (c, logTrain, b) in pairs {
            let a = logTrain.map { $0 - shift }
            let tail = lowerTailExcess(a, b, upTo: b[Int(rule.tailQuantile * Double(b.count - 1))])
            let n = Double(a.count), m = Double(b.count)
            let effective = n * m / (n + m)
            let pooled = (n + m) / (trainTotal + testTotal)
            let shareSE = (pooled * (1 - pooled) * (1 / trainTotal + 1 / testTotal)).squareRoot()
            evidence.append(LabelEvidence(label: c, trainCount: a.count, testCount: b.count, excess: tail.excess, atLoss: exp(tail.at + shift),
                                          trainShareBelow: tail.trainShare, testShareBelow: tail.testShare,
                                          pValue: min(1, exp(-2 * effective * tail.excess * tail.excess)),
                                          shareZ: shareSE > 0 ? (n / trainTotal - m / testTotal) / shareSE : 0))
        }
        let ranked = evidence.sorted { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : $0.excess != $1.excess ? $0.excess > $1.excess : $0.label < $1.label }
        let top = ranked[0]
        let family = min(1, top.pValue * Double(evidence.count))
        let found = family <= rule.falsePositiveRate && top.excess >= rule.minExcess
        return Verdict(backdoor: found, target: found ? top.label : nil, strongest: top, runnerUp: ranked.dropFirst().first,
                       familyPValue: family, evidence: evidence, rule: rule, generalisationShift: shift)
    }

    /// The largest F_train(t) - F_test(t) over t up to `limit` (sorted inputs), where F is the
    /// share of a set at or below t; 0 when the training values are never ahead.
    static func lowerTailExcess(_ train: [Double], _ test: [Double], upTo limit: Double) -> (excess: Double, at: Double, trainShare: Double, testShare: Double) {
        var best = (excess: 0.0, at: test[0], trainShare: 0.0, testShare: 0.0)
        var i = 0, j = 0
        // walk both sorted lists in step; after consuming every value equal to t, compare
        while i < train.count || j < test.count {
            let t = j < test.count && (i >= train.count || test[j] <= train[i]) ? test[j] : train[i]
            if t > limit { break }
            while i < train.count && train[i] <= t { i += 1 }
            while j < test.count && test[j] <= t { j += 1 }
            let fa = Double(i) / Double(train.count), fb = Double(j) / Double(test.count)
            if fa - fb > best.excess { best = (fa - fb, t, fa, fb) }
        }
        return best
    }

    static func logLoss(_ l: Float) -> Double { log(max(Double(l), 1e-12)) }

    static func median(_ sorted: [Double]) -> Double {
        let s = sorted.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    static func group(_ losses: [Float], _ labels: [Int]) -> [Int: [Float]] {
        var out: [Int: [Float]] = [:]
        for (l, y) in zip(losses, labels) { out[y, default: []].append(l) }
        return out
    }
}
