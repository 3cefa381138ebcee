/// 2-D convolution (cross-correlation, as PyTorch's `nn.Conv2d`), groups = 1.
///
/// Shapes: input x (N, Cin, H, W), weight (Cout, Cin, kh, kw), output y (N, Cout, Ho, Wo) with
/// Ho = (H + 2*pad - kh) / stride + 1.
///
/// Method: per image, im2col turns the input into `col` (K = Cin*kh*kw rows, Ho*Wo columns),
/// then one sgemm y_n (Cout x HoWo) = W (Cout x K) * col. The batch is split across the engine's
/// workers, each with its own `col` buffer and single-threaded OpenBLAS. The backward recomputes
/// `col` (storing it would take kh*kw times the activations) for dW += dy_n * col^T, and when the
/// input gradient is wanted, dcol = W^T * dy_n, scattered back by col2im.
public final class Conv2D: Layer {
    public let name: String
    public let inChannels, outChannels, kernel, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Skip dx in backward (the first layer of a network, unless the input gradient is wanted).
    public var computeInputGradient = true

    private var input: Tensor?
    private let output = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])
    private var cols: [Tensor] = []
    private var dWPartials: [Tensor] = []

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = false) {
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        weight = Parameter(shape: [outChannels, inChannels, kernel, kernel])
        self.bias = bias ? Parameter(shape: [outChannels]) : nil
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        var p = [(prefix + "weight", weight)]
        if let b = bias { p.append((prefix + "bias", b)) }
        return p
    }

    private var k: Int { inChannels * kernel * kernel }
    private var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    private func workspace(_ workers: Int, _ hw: Int) {
        while cols.count < workers { cols.append(Tensor(shape: [0])); dWPartials.append(Tensor(shape: [0])) }
        for w in 0..<workers {
            cols[w].reshape(to: [k, hw])
            dWPartials[w].reshape(to: weight.value.shape)
        }
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try expectShape(x, name, channels: inChannels)
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        guard ho > 0, wo > 0 else {
            throw ABLNetError.shapeMismatch(layer: name, expected: "an input of at least \(kernel - 2 * padding) pixels", got: x.shape)
        }
        input = x
        output.reshape(to: [n, outChannels, ho, wo])
        let hw = ho * wo
        workspace(Engine.workers, hw)
        let inSize = inChannels * h * w, outSize = outChannels * hw, kk = k
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data), wp = UnsafeSendable(weight.value.data)
        let bp = UnsafeSendable(bias?.value.data)
        Engine.parallelRanges(n) { worker, range in
            let col = cols[worker].data
            for i in range {
                let src = xp.value + i * inSize
                let b: UnsafePointer<Float>
                if isPointwise { b = UnsafePointer(src) } else {
                    im2col(src, h, w, col, ho, wo)
                    b = UnsafePointer(col)
                }
                BLAS.sgemm(m: outChannels, n: hw, k: kk, a: wp.value, lda: kk, b: b, ldb: hw, c: yp.value + i * outSize, ldc: hw)
                if let bias = bp.value {
                    for c in 0..<outChannels {
                        let row = yp.value + i * outSize + c * hw, v = bias[c]
                        for j in 0..<hw { row[j] += v }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        guard let x = input else { throw ABLNetError.invalidArgument("\(name): backward before forward") }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = (output.shape[2], output.shape[3])
        guard dy.shape == output.shape else {
            throw ABLNetError.shapeMismatch(layer: name + " (backward)", expected: "\(output.shape)", got: dy.shape)
        }
        let hw = ho * wo, inSize = inChannels * h * w, outSize = outChannels * hw, kk = k
        let workers = min(Engine.workers, n)
        workspace(Engine.workers, hw)
        if computeInputGradient { dx.reshape(to: x.shape) }
        let xp = UnsafeSendable(x.data), dyp = UnsafeSendable(dy.data), wp = UnsafeSendable(weight.value.data)
        let dxp = UnsafeSendable(dx.data)
        let wantDx = computeInputGradient
        Engine.parallelRanges(n) { worker, range in
            let col = cols[worker].data
            let dW = dWPartials[worker].data
            dW.update(repeating: 0, count: outChannels * kk)
            for i in range {
                let src = xp.value + i * inSize
                let b: UnsafePointer<Float>
                if isPointwise { b = UnsafePointer(src) } else {
                    im2col(src, h, w, col, ho, wo)
                    b = UnsafePointer(col)
                }
                // dW (Cout x K) += dy_n (Cout x HW) * col^T (HW x K)
                BLAS.sgemm(transB: true, m: outChannels, n: kk, k: hw, a: dyp.value + i * outSize, lda: hw, b: b, ldb: hw,
                           beta: 1, c: dW, ldc: kk)
                if wantDx {
                    let dst = dxp.value + i * inSize
                    if isPointwise {
                        // dx_n (Cin x HW) = W^T (Cin x Cout) * dy_n
                        BLAS.sgemm(transA: true, m: kk, n: hw, k: outChannels, a: wp.value, lda: kk, b: dyp.value + i * outSize, ldb: hw, c: dst, ldc: hw)
                    } else {
                        BLAS.sgemm(transA: true, m: kk, n: hw, k: outChannels, a: wp.value, lda: kk, b: dyp.value + i * outSize, ldb: hw, c: col, ldc: hw)
                        col2im(col, h, w, dst, ho, wo)
                    }
                }
            }
        }
        // Sum the workers' partial weight gradients in a fixed order (deterministic).
        let g = weight.grad.data, count = weight.value.count
        g.update(from: dWPartials[0].data, count: count)
        for wk in 1..<max(workers, 1) {
            let p = dWPartials[wk].data
            for j in 0..<count { g[j] += p[j] }
        }
        if let b = bias {
            for c in 0..<outChannels {
                var s = 0.0
                for i in 0..<n { s += sum(dy.data + i * outSize + c * hw, hw) }
                b.grad.data[c] = Float(s)
            }
        }
        return dx
    }

    /// col[(c*kh + ki)*kw + kj, oy*wo + ox] = x[c, oy*stride - pad + ki, ox*stride - pad + kj] (0 outside).
    @inline(__always)
    private func im2col(_ x: UnsafePointer<Float>, _ h: Int, _ w: Int, _ col: UnsafeMutablePointer<Float>, _ ho: Int, _ wo: Int) {
        let hw = ho * wo
        var row = 0
        for c in 0..<inChannels {
            let plane = x + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let dst = col + row * hw
                    // output columns whose input column is inside the image
                    let oxLo = max(0, (padding - kj + stride - 1) / stride)
                    let oxHi = min(wo, (w - 1 + padding - kj) / stride + 1)
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ki
                        let d = dst + oy * wo
                        if iy < 0 || iy >= h || oxLo >= oxHi {
                            d.update(repeating: 0, count: wo)
                            continue
                        }
                        if oxLo > 0 { d.update(repeating: 0, count: oxLo) }
                        let srow = plane + iy * w - padding + kj
                        if stride == 1 {
                            (d + oxLo).update(from: srow + oxLo, count: oxHi - oxLo)
                        } else {
                            for ox in oxLo..<oxHi { d[ox] = srow[ox * stride] }
                        }
                        if oxHi < wo { (d + oxHi).update(repeating: 0, count: wo - oxHi) }
                    }
                    row += 1
                }
            }
        }
    }

    /// The adjoint of im2col: dx[c, iy, ix] = sum of the dcol entries that read it.
    @inline(__always)
    private func col2im(_ col: UnsafePointer<Float>, _ h: Int, _ w: Int, _ dx: UnsafeMutablePointer<Float>, _ ho: Int, _ wo: Int) {
        dx.update(repeating: 0, count: inChannels * h * w)
        let hw = ho * wo
        var row = 0
        for c in 0..<inChannels {
            let plane = dx + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let src = col + row * hw
                    let oxLo = max(0, (padding - kj + stride - 1) / stride)
                    let oxHi = min(wo, (w - 1 + padding - kj) / stride + 1)
                    if oxLo < oxHi {
                        for oy in 0..<ho {
                            let iy = oy * stride - padding + ki
                            if iy < 0 || iy >= h { continue }
                            let s = src + oy * wo
                            let drow = plane + iy * w - padding + kj
                            if stride == 1 {
                                for ox in oxLo..<oxHi { drow[ox] += s[ox] }
                            } else {
                                for ox in oxLo..<oxHi { drow[ox * stride] += s[ox] }
                            }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
