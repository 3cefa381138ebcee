/// The margin behind an isolation boundary: samples of the isolated samples' label that were
/// not isolated but rank next by the isolation model's loss. The unlearning stage leaves them
/// out of fine-tuning (neither learned nor unlearned). No isolation is perfect, and a clean-label
/// backdoor (SIG: real target-class images with an added signal) is implanted again by the few
/// poisoned samples that stay in the training set once the fine-tuning learning rate drops;
/// those few sit just behind the boundary. Leaving out a margin of the label's next-easiest
/// samples removes most of them at the cost of a slice of one class's clean samples.
public enum Quarantine {
    /// The label most isolated samples carry (the target of a target-aware isolation); the
    /// lowest index among equals. Nil when nothing is isolated.
    public static func label(isolated: [Int], labels: [Int]) -> Int? {
        var counts: [Int: Int] = [:]
        for i in isolated { counts[labels[i], default: 0] += 1 }
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
    }

    /// The `ratio` x |isolated| (rounded up) samples of the isolated samples' label outside the
    /// isolated set with the lowest `losses`, lowest loss first (ties by index). Empty when
    /// nothing is isolated or the ratio is 0.
    public static func margin(isolated: [Int], labels: [Int], losses: [Float], ratio: Double) -> [Int] {
        guard ratio > 0, let label = label(isolated: isolated, labels: labels) else { return [] }
        let taken = Set(isolated)
        let count = Int((ratio * Double(isolated.count)).rounded(.up))
        let candidates = labels.indices.filter { labels[$0] == label && !taken.contains($0) }
        return Array(candidates.sorted { losses[$0] != losses[$1] ? losses[$0] < losses[$1] : $0 < $1 }.prefix(count))
    }
}
