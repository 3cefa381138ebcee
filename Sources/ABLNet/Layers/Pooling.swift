/// Average pooling with a square window (no padding), as `nn.AvgPool2d(k, stride)`.
public final class AvgPool2D: Layer {
    public let kernel, stride: Int
    private var inShape: [Int] = []
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])

    public init(kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try expectShape(x, "AvgPool2D", channels: nil)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h - kernel) / stride + 1, wo = (w - kernel) / stride + 1
        guard ho > 0, wo > 0 else { throw ABLNetError.shapeMismatch(layer: "AvgPool2D", expected: "at least \(kernel)x\(kernel)", got: x.shape) }
        inShape = x.shape
        out.reshape(to: [n, c, ho, wo])
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<(n * c) {
            let src = x.data + p * h * w, dst = out.data + p * ho * wo
            for oy in 0..<ho { for ox in 0..<wo {
                var s: Float = 0
                for ki in 0..<kernel { for kj in 0..<kernel { s += src[(oy * stride + ki) * w + ox * stride + kj] } }
                dst[oy * wo + ox] = s * inv
            } }
        }
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        let (n, c, h, w) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let (ho, wo) = (out.shape[2], out.shape[3])
        dx.reshape(to: inShape)
        dx.zero()
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<(n * c) {
            let src = dy.data + p * ho * wo, dst = dx.data + p * h * w
            for oy in 0..<ho { for ox in 0..<wo {
                let g = src[oy * wo + ox] * inv
                for ki in 0..<kernel { for kj in 0..<kernel { dst[(oy * stride + ki) * w + ox * stride + kj] += g } }
            } }
        }
        return dx
    }
}

/// Max pooling with a square window and optional padding (padded cells never win), as `nn.MaxPool2d`.
public final class MaxPool2D: Layer {
    public let kernel, stride, padding: Int
    private var inShape: [Int] = []
    private var argmax: [Int32] = []
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try expectShape(x, "MaxPool2D", channels: nil)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        guard ho > 0, wo > 0 else { throw ABLNetError.shapeMismatch(layer: "MaxPool2D", expected: "at least \(kernel)x\(kernel)", got: x.shape) }
        inShape = x.shape
        out.reshape(to: [n, c, ho, wo])
        argmax = Array(repeating: 0, count: n * c * ho * wo)
        for p in 0..<(n * c) {
            let src = x.data + p * h * w, dst = out.data + p * ho * wo
            for oy in 0..<ho { for ox in 0..<wo {
                var best = -Float.infinity, at: Int32 = -1
                for ki in 0..<kernel { for kj in 0..<kernel {
                    let iy = oy * stride - padding + ki, ix = ox * stride - padding + kj
                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                    let v = src[iy * w + ix]
                    if v > best || at < 0 { best = v; at = Int32(iy * w + ix) }
                } }
                dst[oy * wo + ox] = best
                argmax[p * ho * wo + oy * wo + ox] = at
            } }
        }
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        let (h, w) = (inShape[2], inShape[3])
        let howo = out.shape[2] * out.shape[3]
        dx.reshape(to: inShape)
        dx.zero()
        for p in 0..<(inShape[0] * inShape[1]) {
            for j in 0..<howo { dx.data[p * h * w + Int(argmax[p * howo + j])] += dy.data[p * howo + j] }
        }
        return dx
    }
}

/// Mean over H and W: (N, C, H, W) -> (N, C).
public final class GlobalAvgPool: Layer {
    private var inShape: [Int] = []
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])

    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try expectShape(x, "GlobalAvgPool", channels: nil)
        inShape = x.shape
        let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        out.reshape(to: [n, c])
        for p in 0..<(n * c) { out.data[p] = Float(sum(x.data + p * hw, hw) / Double(hw)) }
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        let hw = inShape[2] * inShape[3]
        dx.reshape(to: inShape)
        let inv = 1 / Float(hw)
        for p in 0..<(inShape[0] * inShape[1]) {
            let g = dy.data[p] * inv
            (dx.data + p * hw).update(repeating: g, count: hw)
        }
        return dx
    }
}
