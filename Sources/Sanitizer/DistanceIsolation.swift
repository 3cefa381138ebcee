import Foundation

/// Which per-sample signal orders the target label's samples for isolation.
public enum IsolationRanking: String, Sendable, CaseIterable, Codable {
    /// The isolation model's loss, lowest first (ABL's own signal).
    case loss
    /// The signal the detection verdict found strongest for the target: the loss, or the
    /// distance from the label's clean test samples in the model's features, farthest first.
    case detectionSignal = "detection-signal"
}

extension Isolation {
    /// Isolation by the verdict's feature signal: the target label's samples ordered by their
    /// distance from the label's clean test samples (`NeighbourDistance`), farthest first; every
    /// one at or beyond `threshold` (the verdict's cut, where the training samples' excess over
    /// the test samples was most significant), at least `ratio` and at most `maxRatio` (or
    /// exactly `ratio` without one) of the `total` training samples.
    ///
    /// Loss isolation fails where the target's clean samples are as easy as the trigger (Bags on
    /// Fashion-MNIST): the label's losses form one low mode. The trigger's dirty-label samples are
    /// images of other classes, so in feature space they stay apart from the label's real images
    /// even when their loss does not.
    public static func byDistance(rows: [Int], distances: [Double], threshold: Double, total: Int,
                                  ratio: Double, maxRatio: Double?) -> [Int] {
        let order = rows.indices.sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : rows[$0] < rows[$1] }
        let beyond = distances.lazy.filter { $0 >= threshold }.count
        let lo = count(ratio: ratio, of: total)
        let n = maxRatio.map { max(lo, min(beyond, count(ratio: $0, of: total))) } ?? lo
        return order.prefix(n).map { rows[$0] }
    }
}
