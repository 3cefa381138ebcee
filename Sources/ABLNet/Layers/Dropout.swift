/// Inverted dropout: in training, zero each value with probability p and scale the rest by
/// 1/(1-p); identity in evaluation. The mask comes from a seeded generator.
public final class Dropout: Layer {
    public let p: Float
    public var rng: SeededRNG
    private var mask: [Float] = []
    private var active = false
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])

    public init(p: Float, seed: UInt64) {
        self.p = p
        rng = SeededRNG(seed: seed, stream: "dropout")
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        out.reshape(to: x.shape)
        active = mode == .train && p > 0
        guard active else { out.data.update(from: x.data, count: x.count); return out }
        if mask.count < x.count { mask = Array(repeating: 0, count: x.count) }
        let keep = 1 - p, scale = 1 / keep
        for i in 0..<x.count {
            mask[i] = rng.unitFloat() < keep ? scale : 0
            out.data[i] = x.data[i] * mask[i]
        }
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        dx.reshape(to: dy.shape)
        if active { for i in 0..<dy.count { dx.data[i] = dy.data[i] * mask[i] } } else { dx.data.update(from: dy.data, count: dy.count) }
        return dx
    }
}
