/// Batched inference over uint8 image arrays.
public enum Evaluator {
    /// What a pass over a set of images gives.
    public struct Result: Sendable {
        public var predictions: [Int]
        /// Per-sample cross-entropy losses (when labels were given).
        public var losses: [Float]
    }

    /// Predictions (and per-sample losses when `labels` is given) of `net` in eval mode.
    ///
    /// Over several ranks (`group`), each rank runs a contiguous share of the batches and the
    /// results are gathered: every sample is still evaluated in the same batch as by one
    /// process, so every rank gets the values one process would, bit for bit.
    public static func run(_ net: Network, pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int,
                           labels: [Int]? = nil, batchSize: Int = 256, group: any Collective = SingleProcess(),
                           progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        let batches = group.shard((count + batchSize - 1) / batchSize)
        let first = min(batches.lowerBound * batchSize, count), last = min(batches.upperBound * batchSize, count)
        var preds = [Int](), losses = [Float]()
        preds.reserveCapacity(last - first)
        let x = Tensor(shape: [0])
        let ce = CrossEntropy()
        var rng = SeededRNG(seed: 0)
        try pixels.withUnsafeBufferPointer { px in
            var start = first
            while start < last {
                let end = min(start + batchSize, last)
                let idx = Array(start..<end)
                Batcher.fill(x, pixels: px.baseAddress!, height: height, width: width, channels: channels, indices: idx[...], rng: &rng)
                let logits = try net.forward(x, mode: .eval)
                if let labels {
                    losses += try ce.forward(logits: logits, labels: Array(labels[start..<end]), context: "evaluation")
                    preds += ce.predictions()
                } else {
                    preds += logits.rowArgmax()
                }
                start = end
                progress?(end, count)
            }
        }
        guard group.isDistributed else { return Result(predictions: preds, losses: losses) }
        // rows [first, last) of every sample: the shares of the ranks, in rank order
        func gathered(_ local: [Float]) -> [Float] {
            var all = [Float](repeating: 0, count: count)
            all.replaceSubrange(first..<last, with: local)
            group.sum(&all)
            return all
        }
        // class indices are small integers, exact in Float
        let p = gathered(preds.map { Float($0) }).map { Int($0) }
        return Result(predictions: p, losses: labels == nil ? [] : gathered(losses))
    }
}
