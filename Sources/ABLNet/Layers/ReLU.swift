/// y = max(x, 0). The backward passes dy where the output is positive.
public final class ReLU: Layer {
    private var out = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])
    /// How this layer runs: its network's.
    public let engine: EngineSettings

    public init(engine: EngineSettings) { self.engine = engine }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        out.reshape(to: x.shape)
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(out.data)
        engine.parallelRanges(x.count) { _, r in
            for i in r { yp.value[i] = max(xp.value[i], 0) }
        }
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        guard dy.shape == out.shape else { throw ABLNetError.shapeMismatch(layer: "ReLU (backward)", expected: "\(out.shape)", got: dy.shape) }
        dx.reshape(to: dy.shape)
        let yp = UnsafeSendable(out.data), dyp = UnsafeSendable(dy.data), dxp = UnsafeSendable(dx.data)
        engine.parallelRanges(dy.count) { _, r in
            for i in r { dxp.value[i] = yp.value[i] > 0 ? dyp.value[i] : 0 }
        }
        return dx
    }
}
