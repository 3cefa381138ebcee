/// How the training labels are spread over the classes: a second, independent hint at the target.
///
/// A dirty-label attack relabels images of other classes as the target, so in a dataset whose
/// classes were balanced before poisoning the target label holds more samples than any other
/// (Fashion-MNIST at rate 10 %: 12000 against about 5333). The hint says nothing where the source
/// was imbalanced or the attack is clean-label, and an attacker who also drops target-class
/// images can hide it, so it is reported beside the loss-based inference, never used for it.
public struct LabelBalance: Sendable, Equatable {
    /// Samples per label, index = label.
    public let counts: [Int]
    /// The median of `counts` (the mean of the two middle values for an even class count).
    public let median: Double
    /// The label with the most samples (the smaller label on ties).
    public let largest: Int
    /// `counts[largest] / median` (0 when the median is 0).
    public let excess: Double

    /// A largest label this many times the median count is flagged in the report.
    public static let flagRatio = 1.5

    /// Counts `labels` over `classes` labels; labels outside 0..<classes are ignored.
    public init(labels: [Int], classes: Int) {
        var c = [Int](repeating: 0, count: max(classes, 1))
        for l in labels where l >= 0 && l < c.count { c[l] += 1 }
        counts = c
        let sorted = c.sorted()
        let n = sorted.count
        median = n % 2 == 1 ? Double(sorted[n / 2]) : Double(sorted[n / 2 - 1] + sorted[n / 2]) / 2
        var best = 0
        for k in c.indices where c[k] > c[best] { best = k }
        largest = best
        excess = median > 0 ? Double(c[best]) / median : 0
    }

    /// Whether the largest label stands out: at least `flagRatio` times the median.
    public var flagged: Bool { excess >= LabelBalance.flagRatio }
}
