/// How the isolated set D_b is chosen from the per-sample losses after LGA training.
public enum IsolationStrategy: String, Sendable, CaseIterable {
    /// The reference: the fraction p of all samples with the lowest loss.
    case lowestLoss = "lowest-loss"
    /// Uses the backdoor's second weakness (it is tied to one class): infer the target class as
    /// the most common label among the lowest-loss fraction p, then isolate the fraction p of
    /// the whole set with the lowest loss among the samples that carry that label.
    case targetAware = "target-aware"
}

public enum Isolation {
    /// The result: isolated indices from lowest loss up, and the inferred target (target-aware).
    public struct Selection: Sendable, Equatable {
        public var indices: [Int]
        public var inferredTarget: Int?
    }

    /// Number of samples a ratio isolates: round(ratio * count), at least 1.
    public static func count(ratio: Double, of total: Int) -> Int { max(1, min(total, Int((ratio * Double(total)).rounded()))) }

    /// Indices sorted by loss, lowest first (ties by index, so the order is deterministic).
    public static func ranking(_ losses: [Float]) -> [Int] {
        losses.indices.sorted { losses[$0] != losses[$1] ? losses[$0] < losses[$1] : $0 < $1 }
    }

    public static func select(losses: [Float], labels: [Int], ratio: Double, strategy: IsolationStrategy) -> Selection {
        let k = count(ratio: ratio, of: losses.count)
        let ranked = ranking(losses)
        switch strategy {
        case .lowestLoss:
            return Selection(indices: Array(ranked.prefix(k)), inferredTarget: nil)
        case .targetAware:
            var counts: [Int: Int] = [:]
            for i in ranked.prefix(k) { counts[labels[i], default: 0] += 1 }
            let target = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
            return Selection(indices: Array(ranked.lazy.filter { labels[$0] == target }.prefix(k)), inferredTarget: target)
        }
    }
}
