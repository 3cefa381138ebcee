import Foundation

/// Whether a training set holds a backdoor, and which label it targets, judged against a clean
/// reference: the same label's samples in the test set.
///
/// A backdoor makes its poisoned training samples far easier than anything else, and all of them
/// carry one label. A naturally easy class is easy in the test set too; a backdoor's low-loss
/// samples exist only in training. So for each label the detector compares the isolation model's
/// log-losses on the label's training samples with those on the label's test samples, in the
/// lower tail, where a backdoor puts its samples (`tailTest`: at a few test quantiles, how many
/// more training than test samples lie at or below, with an exact hypergeometric p-value). When
/// the target class is itself so easy that the backdoor's samples are learned no better than its
/// own images, the losses cannot tell them apart, but the features can: the second signal
/// compares, the same way, how far each sample lies from the label's test samples in the
/// isolation model's penultimate features (`NeighbourDistance`; the far side is suspicious).
/// The model saw its training samples, so they sit a little lower and closer than the test
/// samples for every label; per signal the median of that shift over the labels is taken off the
/// training values before they are compared, so only a label's own excess counts. A label is
/// named when its p-value, times the number of (label, signal) rows compared, is at most
/// `falsePositiveRate`, and its excess share is at least `minExcess` (so a slight difference
/// between a large training set and its test set is not taken for a backdoor).
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

        /// The thresholds compared: these quantiles of the label's test values, on the
        /// suspicious side (the lowest losses, the farthest distances).
        public var tailQuantiles: [Double]

        public init(falsePositiveRate: Double = 1e-4, minExcess: Double = 0.05, tailQuantiles: [Double] = [0.01, 0.02, 0.05, 0.1, 0.25]) {
            self.falsePositiveRate = falsePositiveRate
            self.minExcess = minExcess
            self.tailQuantiles = tailQuantiles
        }

        public static let `default` = Rule()
    }

    /// The two kinds of evidence, each compared between a label's training and test samples.
    public enum Signal: String, Sendable, CaseIterable, Codable {
        /// The isolation model's loss: a backdoor's samples are learned far faster (lower tail).
        case loss
        /// The mean distance, in the isolation model's penultimate features, to the label's k
        /// nearest test samples (`NeighbourDistance`): a dirty-label backdoor's samples are
        /// images of other classes, far from the label's real ones (upper tail).
        case featureDistance = "feature-distance"
    }

    /// Penultimate features of the training and the test set (N x width, row-major).
    public struct Features: Sendable {
        public let train: [Float]
        public let test: [Float]
        public let width: Int
        public init(train: [Float], test: [Float], width: Int) { self.train = train; self.test = test; self.width = width }
    }

    /// What one label shows under one signal.
    public struct LabelEvidence: Sendable, Equatable, Codable {
        public let label: Int
        public let signal: Signal
        public let trainCount: Int
        public let testCount: Int
        /// The largest excess of the training share over the test share on the suspicious side
        /// of one value (at or below a loss; at or beyond a distance), that value, and the two
        /// shares there.
        public let excess: Double
        public let at: Double
        public let trainShare: Double
        public let testShare: Double
        /// The tail probability of the excess under "no backdoor in this label" (one label, one signal).
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
        /// The row with the smallest p-value, named or not, and the best row of another label.
        public let strongest: LabelEvidence?
        public let runnerUp: LabelEvidence?
        /// `strongest`'s p-value times the number of rows compared (labels x signals; at most 1).
        public let familyPValue: Double
        /// Per signal and label (labels with fewer than 20 training or 10 test samples are left
        /// out: their distributions say little).
        public let evidence: [LabelEvidence]
        public let rule: Rule
        /// Per signal, the median over labels of (median training log-value - median test
        /// log-value), taken off the training values before the comparison.
        public let shifts: [String: Double]
    }

    /// Judges the training set against a clean test set: the isolation model's per-sample losses
    /// and, when given, its penultimate features. Nil when fewer than three labels have enough
    /// samples in both sets: there is then no reference to judge against.
    public static func judge(trainLosses: [Float], trainLabels: [Int], testLosses: [Float], testLabels: [Int],
                             features: Features? = nil, rule: Rule = .default) -> Verdict? {
        let shareZ = labelShareZ(trainLabels, testLabels)
        func grouped(_ v: [Double], _ labels: [Int]) -> [Int: [Double]] {
            var out: [Int: [Double]] = [:]
            for (x, y) in zip(v, labels) { out[y, default: []].append(x) }
            return out
        }
        // the loss signal: log-losses, the low side suspicious
        var signals: [(Signal, [Int: [Double]], [Int: [Double]], lowSuspicious: Bool)] = [
            (.loss, grouped(trainLosses.map(logLoss), trainLabels), grouped(testLosses.map(logLoss), testLabels), true),
        ]
        if let f = features {
            let d = NeighbourDistance.scores(trainFeatures: f.train, trainLabels: trainLabels, testFeatures: f.test, testLabels: testLabels, width: f.width)
            signals.append((.featureDistance, d.mapValues { $0.train.map { log(max($0, 1e-12)) } }, d.mapValues { $0.test.map { log(max($0, 1e-12)) } }, false))
        }
        var evidence: [LabelEvidence] = [], shifts: [String: Double] = [:]
        for (signal, train, test, low) in signals {
            // a far distance is as suspicious as a low loss: negate, and the lower tail is the one to test
            let sign = low ? 1.0 : -1.0
            let pairs = train.keys.sorted().compactMap { c -> (Int, [Double], [Double])? in
                guard let tr = train[c], tr.count >= 20, let te = test[c], te.count >= 10 else { return nil }
                return (c, tr.map { sign * $0 }.sorted(), te.map { sign * $0 }.sorted())
            }
            guard pairs.count >= 3 else { continue }
            let shift = median(pairs.map { median($0.1) - median($0.2) })
            shifts[signal.rawValue] = sign * shift
            for (c, values, b) in pairs {
                let a = values.map { $0 - shift }
                let tail = tailTest(a, b, quantiles: rule.tailQuantiles)
                evidence.append(LabelEvidence(label: c, signal: signal, trainCount: a.count, testCount: b.count, excess: tail.excess,
                                              at: exp(sign * (tail.at + shift)), trainShare: tail.trainShare, testShare: tail.testShare,
                                              pValue: tail.pValue, shareZ: shareZ[c] ?? 0))
            }
        }
        guard !evidence.isEmpty else { return nil }
        let ranked = evidence.sorted { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : $0.excess != $1.excess ? $0.excess > $1.excess : $0.label < $1.label }
        let top = ranked[0]
        let family = min(1, top.pValue * Double(evidence.count))
        let found = family <= rule.falsePositiveRate && top.excess >= rule.minExcess
        return Verdict(backdoor: found, target: found ? top.label : nil, strongest: top, runnerUp: ranked.first { $0.label != top.label },
                       familyPValue: family, evidence: evidence, rule: rule, shifts: shifts)
    }

    /// Per label: its share of the training set against its share of the test set (two-proportion z).
    static func labelShareZ(_ train: [Int], _ test: [Int]) -> [Int: Double] {
        let n = Double(train.count), m = Double(test.count)
        guard n > 0, m > 0 else { return [:] }
        var ct: [Int: Double] = [:], cs: [Int: Double] = [:]
        for y in train { ct[y, default: 0] += 1 }
        for y in test { cs[y, default: 0] += 1 }
        var out: [Int: Double] = [:]
        for c in Set(ct.keys).union(cs.keys) {
            let a = ct[c] ?? 0, b = cs[c] ?? 0, pooled = (a + b) / (n + m)
            let se = (pooled * (1 - pooled) * (1 / n + 1 / m)).squareRoot()
            out[c] = se > 0 ? (a / n - b / m) / se : 0
        }
        return out
    }

    /// The tail test of one label: at each of a few thresholds, the test set's `q` quantile for
    /// q in `quantiles`, the share of training values at or below it is compared with the test
    /// share there. Without a backdoor the two sets are exchangeable, so among the r pooled values
    /// at or below the threshold the number from the training set is hypergeometric (n training
    /// and m test values in all): its upper tail is the exact p-value at that threshold, and the
    /// smallest one times the number of thresholds (Bonferroni) is the label's p-value. The
    /// threshold reported is the one with that smallest p-value.
    static func tailTest(_ train: [Double], _ test: [Double], quantiles: [Double])
        -> (excess: Double, at: Double, trainShare: Double, testShare: Double, pValue: Double) {
        let n = train.count, m = test.count
        let cuts = Array(Set(quantiles.map { max(0, min(m - 1, Int(($0 * Double(m)).rounded(.up)) - 1)) })).sorted()
        var best = (excess: 0.0, at: test[0], trainShare: 0.0, testShare: 0.0, pValue: 1.0)
        for cut in cuts {
            let t = test[cut]
            let k = countAtOrBelow(train, t), j = countAtOrBelow(test, t)
            let p = hypergeometricUpperTail(population: n + m, successes: n, draws: k + j, atLeast: k)
            if p < best.pValue || (p == best.pValue && Double(k) / Double(n) - Double(j) / Double(m) > best.excess) {
                best = (Double(k) / Double(n) - Double(j) / Double(m), t, Double(k) / Double(n), Double(j) / Double(m), p)
            }
        }
        best.pValue = min(1, best.pValue * Double(cuts.count))
        best.excess = max(0, best.excess)
        return best
    }

    /// How many of the sorted values are at or below t.
    static func countAtOrBelow(_ sorted: [Double], _ t: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= t { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    /// P(X >= k) for X ~ Hypergeometric(population, successes, draws), summed in log space.
    static func hypergeometricUpperTail(population N: Int, successes K: Int, draws r: Int, atLeast k: Int) -> Double {
        func logChoose(_ a: Int, _ b: Int) -> Double { lgamma(Double(a + 1)) - lgamma(Double(b + 1)) - lgamma(Double(a - b + 1)) }
        let lo = max(k, r - (N - K)), hi = min(K, r)
        guard lo <= hi else { return k <= max(0, r - (N - K)) ? 1 : 0 }
        let total = logChoose(N, r)
        let terms = (lo...hi).map { logChoose(K, $0) + logChoose(N - K, r - $0) - total }
        let top = terms.max()!
        return min(1, exp(top) * terms.reduce(0) { $0 + exp($1 - top) })
    }

    static func logLoss(_ l: Float) -> Double { log(max(Double(l), 1e-12)) }

    static func median(_ sorted: [Double]) -> Double {
        let s = sorted.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
