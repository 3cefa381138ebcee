import ABLNet

/// Moving images between the uint8 HWC dataset layout and float NCHW tensors in [0, 1], and
/// the gradients the optimised attacks take through a surrogate model (always in eval mode:
/// the surrogate's weights and BatchNorm statistics never change).
public enum SurrogateOps {
    /// Images `indices` of `split` as an (N, C, H, W) tensor in [0, 1].
    public static func tensor(_ split: DatasetSplit, _ indices: [Int]) -> Tensor {
        let x = Tensor(shape: [0])
        var rng = SeededRNG(seed: 0)
        split.pixels.withUnsafeBufferPointer { px in
            Batcher.fill(x, pixels: px.baseAddress!, height: split.height, width: split.width, channels: split.channels,
                         indices: indices[...], rng: &rng)
        }
        return x
    }

    /// Writes image `k` of the (N, C, H, W) tensor `x` (values in [0, 1]) into HWC uint8 at `dst`,
    /// rounding to the nearest level.
    public static func store(_ x: Tensor, _ k: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let src = x.data + k * c * h * w
        for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
            dst[(y * w + xx) * c + ch] = quantise(src[ch * h * w + y * w + xx])
        } } }
    }

    /// A [0, 1] value as the nearest uint8 level.
    @inline(__always)
    public static func quantise(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }

    /// The gradient of `sum_i weights[i] * CE(f(x_i), labels[i])` with respect to x (a copy),
    /// and the per-sample losses.
    public static func lossGradient(_ net: Network, _ x: Tensor, labels: [Int], weights: [Float]) throws -> (grad: Tensor, losses: [Float]) {
        net.inputGradient = true
        defer { net.inputGradient = false }
        let logits = try net.forward(x, mode: .eval)
        let ce = CrossEntropy()
        let losses = try ce.forward(logits: logits, labels: labels, context: "surrogate")
        let g = try net.backward(ce.backward(weights: weights))
        return (g.copy(), losses)
    }

    /// Penultimate features (N, F) of x (a copy), without a backward.
    public static func features(_ net: Network, _ x: Tensor) throws -> Tensor {
        _ = try net.forward(x, mode: .eval)
        return net.features!.copy()
    }

    /// Where a feature-space loss is taken: the pooled penultimate features (N, F) or the last
    /// spatial feature map (N, F, h, w) before pooling.
    public enum FeatureLayer: Sendable {
        case pooled, map
    }

    /// Runs a forward, lets `loss` turn the features at `layer` into a scalar and its gradient
    /// (written into the second tensor, zeroed beforehand), and returns the input gradient (a
    /// copy) with the loss value.
    public static func featureGradient(_ net: Network, _ x: Tensor, at layer: FeatureLayer = .pooled,
                                       loss: (Tensor, Tensor) -> Double) throws -> (grad: Tensor, loss: Double) {
        net.inputGradient = true
        defer { net.inputGradient = false }
        _ = try net.forward(x, mode: .eval)
        let f = layer == .pooled ? net.features! : net.featureMap!
        let df = Tensor(shape: f.shape)
        df.zero()
        let value = loss(f, df)
        guard value.isFinite else { throw DatasetError.invalid("feature loss is NaN or infinite during the attack's optimisation") }
        let g = layer == .pooled ? try net.backwardFromFeatures(df) : try net.backwardFromFeatureMap(df)
        return (g.copy(), value)
    }

    /// One projected sign-gradient step of PGD: x += direction * step * sign(g), then back into
    /// the L-inf ball of radius `epsilon` around x0 and into [0, 1]. direction +1 ascends, -1 descends.
    public static func signStep(_ x: Tensor, from x0: Tensor, gradient g: Tensor, step: Float, epsilon: Float, direction: Float) {
        for k in 0..<x.count {
            let v = x.data[k] + direction * step * (g.data[k] > 0 ? 1 : (g.data[k] < 0 ? -1 : 0))
            x.data[k] = max(0, min(1, max(x0.data[k] - epsilon, min(x0.data[k] + epsilon, v))))
        }
    }

    /// Writes image `k` of x into HWC uint8 at `dst` (see `store`), then clamps every pixel to
    /// within `budget` levels of `original`: rounding must not break an L-inf budget.
    public static func store(_ x: Tensor, _ k: Int, into dst: UnsafeMutablePointer<UInt8>, within budget: Int, of original: UnsafePointer<UInt8>) {
        store(x, k, into: dst)
        for p in 0..<(x.sampleSize) {
            let o = Int(original[p])
            dst[p] = UInt8(max(o - budget, min(o + budget, Int(dst[p]))))
        }
    }

    /// The last spatial feature map of x (a copy).
    public static func featureMap(_ net: Network, _ x: Tensor) throws -> Tensor {
        _ = try net.forward(x, mode: .eval)
        return net.featureMap!.copy()
    }

    /// Predicted classes of the (N, C, H, W) images x.
    public static func predict(_ net: Network, _ x: Tensor) throws -> [Int] {
        let logits = try net.forward(x, mode: .eval)
        let k = logits.shape[1]
        return (0..<logits.shape[0]).map { i in
            var best = 0
            for j in 1..<k where logits.data[i * k + j] > logits.data[i * k + best] { best = j }
            return best
        }
    }

    /// Share of `split`'s images (at most `limit`, seeded choice) that `net` assigns to their
    /// labels after `transform` rewrites their pixels: the surrogate-side success of a trigger.
    public static func accuracy(_ net: Network, _ split: DatasetSplit, limit: Int = 1000, seed: UInt64 = 0) throws -> Double {
        guard split.count > 0 else { return 0 }
        var rng = SeededRNG(seed: seed, stream: "surrogate-check")
        let idx = Array(rng.permutation(split.count).prefix(limit))
        var correct = 0
        for start in stride(from: 0, to: idx.count, by: 256) {
            let chunk = Array(idx[start..<min(start + 256, idx.count)])
            let p = try predict(net, tensor(split, chunk))
            for (k, i) in chunk.enumerated() where p[k] == split.labels[i] { correct += 1 }
        }
        return Double(correct) / Double(idx.count)
    }
}
