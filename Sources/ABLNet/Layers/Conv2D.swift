/// 2-D convolution (cross-correlation, as PyTorch's `nn.Conv2d`), groups = 1.
///
/// Shapes: input x (N, Cin, H, W), weight (Cout, Cin, kh, kw), output y (N, Cout, Ho, Wo) with
/// Ho = (H + 2*pad - kh) / stride + 1.
///
/// Method: im2col turns a group of g images into `col` (K = Cin*kh*kw rows, g*Ho*Wo columns,
/// g chosen by `targetColumns`; one image by default), then one sgemm y (Cout x g*HoWo) = W (Cout x K)
/// * col, copied out to NCHW. The batch is split across the engine's workers, each with its own
/// buffers and single-threaded OpenBLAS. The backward recomputes `col` (storing it would take
/// kh*kw times the activations) for dW += dy * col^T, and when the input gradient is wanted,
/// dcol = W^T * dy, scattered back by col2im.
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
    // Per-worker workspaces: im2col columns of a group of images, the group's output (or output
    // gradient) in (Cout, group*HW) layout, and the worker's partial weight gradient.
    private var cols: [Tensor] = []
    private var groupOut: [Tensor] = []
    private var dWPartials: [Tensor] = []

    /// Output columns per sgemm call: images are grouped until a call has about this many.
    /// 1 (the default) means one image per call, which measured fastest on the 2-core machine
    /// (docs/BENCHMARKS.md: grouping to 1024-4096 columns cost 5-15 % in copies and cache misses,
    /// more than it saved in OpenBLAS's packing). `abl bench --conv-columns` measures others.
    nonisolated(unsafe) public static var targetColumns = 1

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

    /// Images per sgemm call for a plane of `hw` output pixels.
    private func groupSize(_ hw: Int) -> Int { max(1, Conv2D.targetColumns / hw) }

    private func workspace(_ workers: Int, _ columns: Int) {
        while cols.count < workers {
            cols.append(Tensor(shape: [0])); groupOut.append(Tensor(shape: [0])); dWPartials.append(Tensor(shape: [0]))
        }
        for w in 0..<workers {
            cols[w].reshape(to: [k, columns])
            groupOut[w].reshape(to: [outChannels, columns])
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
        let hw = ho * wo, group = groupSize(hw)
        workspace(Engine.workers, group * hw)
        let inSize = inChannels * h * w, outSize = outChannels * hw, kk = k
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data), wp = UnsafeSendable(weight.value.data)
        let bp = UnsafeSendable(bias?.value.data)
        Engine.parallelRanges(n) { worker, range in
            let col = cols[worker].data, tmp = groupOut[worker].data
            for first in Swift.stride(from: range.lowerBound, to: range.upperBound, by: group) {
                let g = min(group, range.upperBound - first), ld = g * hw
                for j in 0..<g { im2col(xp.value + (first + j) * inSize, h, w, col + j * hw, ld, ho, wo) }
                // y_group (Cout x g*HW) = W (Cout x K) * col (K x g*HW); one image writes straight into y
                let dst = g == 1 ? yp.value + first * outSize : tmp
                BLAS.sgemm(m: outChannels, n: ld, k: kk, a: wp.value, lda: kk, b: col, ldb: ld, c: dst, ldc: ld)
                if g > 1 {
                    for j in 0..<g { for c in 0..<outChannels {
                        (yp.value + (first + j) * outSize + c * hw).update(from: tmp + c * ld + j * hw, count: hw)
                    } }
                }
                if let bias = bp.value {
                    for i in first..<(first + g) { for c in 0..<outChannels {
                        let row = yp.value + i * outSize + c * hw, v = bias[c]
                        for j in 0..<hw { row[j] += v }
                    } }
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
        let hw = ho * wo, inSize = inChannels * h * w, outSize = outChannels * hw, kk = k, group = groupSize(hw)
        let workers = min(Engine.workers, n)
        workspace(Engine.workers, group * hw)
        if computeInputGradient { dx.reshape(to: x.shape) }
        let xp = UnsafeSendable(x.data), dyp = UnsafeSendable(dy.data), wp = UnsafeSendable(weight.value.data)
        let dxp = UnsafeSendable(dx.data)
        let wantDx = computeInputGradient
        Engine.parallelRanges(n) { worker, range in
            let col = cols[worker].data, tmp = groupOut[worker].data
            let dW = dWPartials[worker].data
            dW.update(repeating: 0, count: outChannels * kk)
            for first in Swift.stride(from: range.lowerBound, to: range.upperBound, by: group) {
                let g = min(group, range.upperBound - first), ld = g * hw
                for j in 0..<g { im2col(xp.value + (first + j) * inSize, h, w, col + j * hw, ld, ho, wo) }
                // the group's output gradient as (Cout x g*HW)
                let dyg: UnsafeMutablePointer<Float>
                if g == 1 { dyg = dyp.value + first * outSize } else {
                    for j in 0..<g { for c in 0..<outChannels {
                        (tmp + c * ld + j * hw).update(from: dyp.value + (first + j) * outSize + c * hw, count: hw)
                    } }
                    dyg = tmp
                }
                // dW (Cout x K) += dy_group (Cout x g*HW) * col^T (g*HW x K)
                BLAS.sgemm(transB: true, m: outChannels, n: kk, k: ld, a: dyg, lda: ld, b: col, ldb: ld, beta: 1, c: dW, ldc: kk)
                if wantDx {
                    // dcol (K x g*HW) = W^T (K x Cout) * dy_group, into col (no longer needed), then col2im
                    BLAS.sgemm(transA: true, m: kk, n: ld, k: outChannels, a: wp.value, lda: kk, b: dyg, ldb: ld, c: col, ldc: ld)
                    for j in 0..<g { col2im(col + j * hw, ld, h, w, dxp.value + (first + j) * inSize, ho, wo) }
                }
            }
        }
        // Sum the workers' partial weight gradients in a fixed order (deterministic).
        let gsum = weight.grad.data, count = weight.value.count
        gsum.update(from: dWPartials[0].data, count: count)
        for wk in 1..<max(workers, 1) {
            let p = dWPartials[wk].data
            for j in 0..<count { gsum[j] += p[j] }
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

    /// col[(c*kh + ki)*kw + kj, oy*wo + ox] = x[c, oy*stride - pad + ki, ox*stride - pad + kj] (0 outside);
    /// rows of `col` are `ld` floats apart (a group of images sits side by side).
    @inline(__always)
    private func im2col(_ x: UnsafePointer<Float>, _ h: Int, _ w: Int, _ col: UnsafeMutablePointer<Float>, _ ld: Int, _ ho: Int, _ wo: Int) {
        var row = 0
        for c in 0..<inChannels {
            let plane = x + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let dst = col + row * ld
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
    private func col2im(_ col: UnsafePointer<Float>, _ ld: Int, _ h: Int, _ w: Int, _ dx: UnsafeMutablePointer<Float>, _ ho: Int, _ wo: Int) {
        dx.update(repeating: 0, count: inChannels * h * w)
        var row = 0
        for c in 0..<inChannels {
            let plane = dx + c * h * w
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    let src = col + row * ld
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
