/// Batched inference over uint8 image arrays.
public enum Evaluator {
    /// What a pass over a set of images gives.
    public struct Result: Sendable {
        public var predictions: [Int]
        /// Per-sample cross-entropy losses (when labels were given).
        public var losses: [Float]
    }

    /// Predictions (and per-sample losses when `labels` is given) of `net` in eval mode.
    public static func run(_ net: Network, pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int,
                           labels: [Int]? = nil, batchSize: Int = 256, progress: ((Int, Int) -> Void)? = nil) throws -> Result {
        var preds = [Int](), losses = [Float]()
        preds.reserveCapacity(count)
        let x = Tensor(shape: [0])
        let ce = CrossEntropy()
        var rng = SeededRNG(seed: 0)
        try pixels.withUnsafeBufferPointer { px in
            var start = 0
            while start < count {
                let end = min(start + batchSize, count)
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
        return Result(predictions: preds, losses: losses)
    }
}
