import Foundation

/// How the isolated set D_b is chosen from the per-sample losses after LGA training.
public enum IsolationStrategy: String, Sendable, CaseIterable {
    /// The reference: the fraction p of all samples with the lowest loss.
    case lowestLoss = "lowest-loss"
    /// Uses the backdoor's second weakness (it is tied to one class). The target class is the
    /// label whose losses spread widest, log(median / 5th percentile): its samples are a mix of
    /// backdoored ones, learned far faster than anything else, and its clean ones. Then the
    /// fraction p of the whole set with the lowest loss among the samples of that label is
    /// isolated. (Counting labels among the lowest losses instead fails on Fashion-MNIST:
    /// clean Trousers are learned as fast as the trigger.)
    case targetAware = "target-aware"
}

public enum Isolation {
    /// The result: isolated indices from lowest loss up, and the inferred target (target-aware).
    public struct Selection: Sendable, Equatable {
        public var indices: [Int]
        public var inferredTarget: Int?
        /// Per class, log(median loss / 5th-percentile loss) (target-aware only).
        public var classSpread: [Int: Double] = [:]
        /// The mixture that set the count (adaptive target-aware isolation only).
        public var mixture: LossMixture? = nil
    }

    /// log(median / 5th percentile) of each label's losses (labels with fewer than 20 samples
    /// are left out: their percentiles mean little).
    public static func classSpread(losses: [Float], labels: [Int]) -> [Int: Double] {
        var byClass: [Int: [Float]] = [:]
        for (l, y) in zip(losses, labels) { byClass[y, default: []].append(l) }
        var out: [Int: Double] = [:]
        for (c, ls) in byClass where ls.count >= 20 {
            let sorted = ls.sorted()
            func q(_ f: Double) -> Double { max(Double(sorted[Int(f * Double(sorted.count - 1))]), 1e-12) }
            out[c] = log(q(0.5)) - log(q(0.05))
        }
        return out
    }

    /// Number of samples a ratio isolates: round(ratio * count), at least 1.
    public static func count(ratio: Double, of total: Int) -> Int { max(1, min(total, Int((ratio * Double(total)).rounded()))) }

    /// Indices sorted by loss, lowest first (ties by index, so the order is deterministic).
    public static func ranking(_ losses: [Float]) -> [Int] {
        losses.indices.sorted { losses[$0] != losses[$1] ? losses[$0] < losses[$1] : $0 < $1 }
    }

    /// Chooses D_b. With `maxRatio` (target-aware only) the count is adaptive: every sample of
    /// the inferred target label whose log-loss lies below the boundary of a two-component
    /// mixture fitted to that label's log-losses (`LossMixture`), at least `ratio` and at most
    /// `maxRatio` of the training set.
    public static func select(losses: [Float], labels: [Int], ratio: Double, strategy: IsolationStrategy, maxRatio: Double? = nil) -> Selection {
        let k = count(ratio: ratio, of: losses.count)
        let ranked = ranking(losses)
        switch strategy {
        case .lowestLoss:
            return Selection(indices: Array(ranked.prefix(k)), inferredTarget: nil)
        case .targetAware:
            let spread = classSpread(losses: losses, labels: labels)
            guard let target = spread.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key else {
                return Selection(indices: Array(ranked.prefix(k)), inferredTarget: nil)
            }
            let ofTarget = ranked.filter { labels[$0] == target }
            guard let maxRatio else { return Selection(indices: Array(ofTarget.prefix(k)), inferredTarget: target, classSpread: spread) }
            let mixture = LossMixture.fit(ofTarget.map { losses[$0] })
            var n = k
            if let b = mixture?.boundary {
                n = ofTarget.lazy.filter { log(max(Double(losses[$0]), 1e-12)) < b }.count
            }
            n = max(k, min(n, count(ratio: maxRatio, of: losses.count)))
            return Selection(indices: Array(ofTarget.prefix(n)), inferredTarget: target, classSpread: spread, mixture: mixture)
        }
    }
}
