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
///
/// The 3x3, padding-1 shapes with stride 1 or 2 (nearly all of a ResNet's FLOPs) take the direct
/// kernels of `Conv3x3Direct` instead, with no im2col and no BLAS call: forward, weight gradient
/// and input gradient (the latter when inChannels % 4 == 0; at stride 2 as four parity-class
/// correlations, `Conv3x3Stride2InputGradient.swift`).
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
    /// The shape of the last forward's input (`Benchmark.layers` times each shape alone).
    var lastInputShape: [Int]? { input?.shape }
    // Per-worker workspaces: im2col columns of a group of images, the group's output (or output
    // gradient) in (Cout, group*HW) layout, and the worker's partial weight gradient.
    private var cols: [Tensor] = []
    private var groupOut: [Tensor] = []
    private var dWPartials: [Tensor] = []
    // Direct 3x3 path: packed weights (forward and input gradient) and per-worker padded planes.
    private let packed = Tensor(shape: [0]), packedT = Tensor(shape: [0])
    private var xPad: [Tensor] = [], dyPad: [Tensor] = []
    // AVX-512 weight gradient: per-worker dy with channel pairs interleaved, and lane partials.
    private var dyPairs: [Tensor] = [], wPartials: [Tensor] = []

    /// How this layer runs (workers, kernels, convolution paths): its network's.
    public let engine: EngineSettings

    /// Whether this layer's forward and weight gradient take the direct 3x3 kernels.
    private var direct: Bool {
        engine.conv.directKernels && (stride == 1 || engine.conv.directStride2)
            && Conv3x3Direct.applies(kernel: kernel, stride: stride, padding: padding, outChannels: outChannels)
    }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = false,
                engine: EngineSettings) {
        self.name = name
        self.engine = engine
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
    private func groupSize(_ hw: Int) -> Int { max(1, engine.conv.targetColumns / hw) }

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
        if direct {
            forwardDirect(x)
            addBias(output)
            return output
        }
        let hw = ho * wo, group = groupSize(hw)
        workspace(engine.workers, group * hw)
        let inSize = inChannels * h * w, outSize = outChannels * hw, kk = k
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data), wp = UnsafeSendable(weight.value.data)
        engine.parallelRanges(n) { worker, range in
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
            }
        }
        addBias(output)
        return output
    }

    /// y += bias, per output channel.
    private func addBias(_ y: Tensor) {
        guard let bias = bias?.value.data else { return }
        let n = y.shape[0], hw = y.shape[2] * y.shape[3]
        for i in 0..<n { for c in 0..<outChannels {
            let row = y.data + (i * outChannels + c) * hw, v = bias[c]
            for j in 0..<hw { row[j] += v }
        } }
    }

    /// Padded-plane buffers for each worker (`Conv3x3Direct`): `images` padded inputs and, for
    /// the backward, as many padded output gradients.
    private func directWorkspace(_ layout: Conv3x3Direct.Layout, dy: Bool, images: Int) {
        while xPad.count < engine.workers { xPad.append(Tensor(shape: [0])); dyPad.append(Tensor(shape: [0])) }
        for k in 0..<engine.workers {
            xPad[k].reshape(to: [images * inChannels * layout.plane])
            if dy { dyPad[k].reshape(to: [images * outChannels * layout.outputLayout.plane]) }
        }
    }

    /// Forward through the direct 3x3 kernel, a chunk of images at a time on each worker.
    private func forwardDirect(_ x: Tensor) {
        let layout = Conv3x3Direct.Layout(h: x.shape[2], w: x.shape[3], stride: stride)
        let inSize = inChannels * layout.h * layout.w, outSize = outChannels * layout.ho * layout.wo
        packed.reshape(to: [weight.value.count])
        let wide = Conv3x3Direct.avx512Takes(cout: outChannels, engine.kernels)
        if wide {
            Conv3x3Direct.pack16(weight.value.data, cout: outChannels, cin: inChannels, into: packed.data)
        } else {
            Conv3x3Direct.pack(weight.value.data, cout: outChannels, cin: inChannels, into: packed.data)
        }
        let chunk = engine.conv.directChunk
        directWorkspace(layout, dy: false, images: chunk)
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data), wp = UnsafeSendable(packed.data)
        let (cin, cout) = (inChannels, outChannels)
        engine.parallelRanges(x.shape[0]) { worker, range in
            let pad = xPad[worker].data
            for first in Swift.stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
                let m = min(chunk, range.upperBound - first)
                for j in 0..<m { Conv3x3Direct.pad(xp.value + (first + j) * inSize, channels: cin, layout, kernels: engine.kernels, into: pad + j * cin * layout.plane) }
                if wide {
                    Conv3x3Direct.forwardAVX512(xp: pad, cin: cin, layout: layout, images: m, wq: wp.value, cout: cout, y: yp.value + first * outSize)
                } else {
                    Conv3x3Direct.forward(xp: pad, cin: cin, layout: layout, images: m, wp: wp.value, cout: cout, y: yp.value + first * outSize)
                }
            }
        }
    }

    /// Weight gradient (and, when wanted, input gradient) through the direct 3x3 kernels. The
    /// input gradient of a stride-1 layer is the forward kernel run on padded dy with the flipped,
    /// transposed weights, that of a stride-2 layer four parity-class correlations of padded dy;
    /// both need inChannels % 4 == 0, and the first layer of an RGB or grey network, which has
    /// not, takes the im2col path for dx only (`backwardIm2col` with wantDW false).
    private func backwardDirect(_ x: Tensor, _ dy: Tensor, wantDx: Bool) {
        let layout = Conv3x3Direct.Layout(h: x.shape[2], w: x.shape[3], stride: stride), out = layout.outputLayout
        let n = x.shape[0], inSize = inChannels * layout.h * layout.w, outSize = outChannels * layout.ho * layout.wo
        let (cin, cout) = (inChannels, outChannels)
        let directDx = wantDx && cin % 4 == 0
        let wideDx = directDx && Conv3x3Direct.avx512Takes(cout: cin, engine.kernels)
        // stride 2: the four parity classes' weights one after the other (9 taps in all)
        var parityOffsets: [Int] = []
        if directDx {
            packedT.reshape(to: [weight.value.count])
            if stride == 1 {
                if wideDx {
                    Conv3x3Direct.packTransposed16(weight.value.data, cout: cout, cin: cin, into: packedT.data)
                } else {
                    Conv3x3Direct.packTransposed(weight.value.data, cout: cout, cin: cin, into: packedT.data)
                }
            } else {
                var offset = 0
                for cls in Conv3x3Direct.ParityClass.all {
                    parityOffsets.append(offset)
                    if wideDx {
                        Conv3x3Direct.packParity16(weight.value.data, cout: cout, cin: cin, cls, into: packedT.data + offset)
                    } else {
                        Conv3x3Direct.packParity(weight.value.data, cout: cout, cin: cin, cls, into: packedT.data + offset)
                    }
                    offset += cin * cout * cls.taps.count
                }
            }
        }
        let chunk = engine.conv.directChunk
        directWorkspace(layout, dy: true, images: chunk)
        let wideDW = Conv3x3Direct.avx512Takes(cout: cout, engine.kernels)
        if wideDW {
            while dyPairs.count < engine.workers { dyPairs.append(Tensor(shape: [0])); wPartials.append(Tensor(shape: [0])) }
            for k in 0..<engine.workers {
                dyPairs[k].reshape(to: [Conv3x3Direct.pairRowsCount(images: chunk, cout: cout, layout: layout)])
                wPartials[k].reshape(to: [Conv3x3Direct.partialsCount(cin: cin)])
            }
        }
        while dWPartials.count < engine.workers { dWPartials.append(Tensor(shape: [0])) }
        for k in 0..<engine.workers { dWPartials[k].reshape(to: weight.value.shape) }
        let xp = UnsafeSendable(x.data), dyp = UnsafeSendable(dy.data), dxp = UnsafeSendable(dx.data)
        let wtp = UnsafeSendable(packedT.data)
        engine.parallelRanges(n) { worker, range in
            let xpad = xPad[worker].data, dpad = dyPad[worker].data, dW = dWPartials[worker].data
            dW.update(repeating: 0, count: cout * cin * 9)
            // chunks of images: padded side by side, one weight-gradient pass per chunk
            for first in Swift.stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
                let m = min(chunk, range.upperBound - first)
                for j in 0..<m {
                    Conv3x3Direct.pad(xp.value + (first + j) * inSize, channels: cin, layout, kernels: engine.kernels, into: xpad + j * cin * layout.plane)
                    Conv3x3Direct.pad(dyp.value + (first + j) * outSize, channels: cout, out, kernels: engine.kernels, into: dpad + j * cout * out.plane)
                }
                if wideDW {
                    Conv3x3Direct.weightGradientAVX512(xp: xpad, cin: cin, layout: layout, images: m, dy: dyp.value + first * outSize, cout: cout,
                                                       pairs: dyPairs[worker].data, partials: wPartials[worker].data, dw: dW)
                } else {
                    Conv3x3Direct.weightGradient(xp: xpad, cin: cin, layout: layout, images: m, dyp: dpad, cout: cout, dw: dW)
                }
                if directDx && layout.stride == 1 {
                    if wideDx {
                        Conv3x3Direct.forwardAVX512(xp: dpad, cin: cout, layout: out, images: m, wq: wtp.value, cout: cin, y: dxp.value + first * inSize)
                    } else {
                        Conv3x3Direct.forward(xp: dpad, cin: cout, layout: out, images: m, wp: wtp.value, cout: cin, y: dxp.value + first * inSize)
                    }
                } else if directDx {
                    for (cls, offset) in zip(Conv3x3Direct.ParityClass.all, parityOffsets) {
                        if wideDx {
                            Conv3x3Direct.inputGradientStride2AVX512(dyp: dpad, cout: cout, out: out, images: m, cls, wq: wtp.value + offset,
                                                                     cin: cin, h: layout.h, w: layout.w, dx: dxp.value + first * inSize)
                        } else {
                            Conv3x3Direct.inputGradientStride2(dyp: dpad, cout: cout, out: out, images: m, cls, wp: wtp.value + offset,
                                                               cin: cin, h: layout.h, w: layout.w, dx: dxp.value + first * inSize)
                        }
                    }
                }
            }
        }
        if wantDx && !directDx { backwardIm2col(x, dy, wantDx: true, wantDW: false) }
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        guard let x = input else { throw ABLNetError.invalidArgument("\(name): backward before forward") }
        guard dy.shape == output.shape else {
            throw ABLNetError.shapeMismatch(layer: name + " (backward)", expected: "\(output.shape)", got: dy.shape)
        }
        let n = x.shape[0], hw = output.shape[2] * output.shape[3], outSize = outChannels * hw
        if computeInputGradient { dx.reshape(to: x.shape) }
        if direct {
            backwardDirect(x, dy, wantDx: computeInputGradient)
        } else {
            backwardIm2col(x, dy, wantDx: computeInputGradient, wantDW: true)
        }
        // Sum the workers' partial weight gradients in a fixed order (deterministic).
        let workers = min(engine.workers, n)
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

    /// The im2col backward: per worker, dW partial += dy * col^T (when `wantDW`), and
    /// dx = col2im(W^T * dy) (when `wantDx`).
    private func backwardIm2col(_ x: Tensor, _ dy: Tensor, wantDx: Bool, wantDW: Bool) {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = (output.shape[2], output.shape[3])
        let hw = ho * wo, inSize = inChannels * h * w, outSize = outChannels * hw, kk = k, group = groupSize(hw)
        workspace(engine.workers, group * hw)
        let xp = UnsafeSendable(x.data), dyp = UnsafeSendable(dy.data), wp = UnsafeSendable(weight.value.data)
        let dxp = UnsafeSendable(dx.data)
        engine.parallelRanges(n) { worker, range in
            let col = cols[worker].data, tmp = groupOut[worker].data
            let dW = dWPartials[worker].data
            if wantDW { dW.update(repeating: 0, count: outChannels * kk) }
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
                if wantDW {
                    BLAS.sgemm(transB: true, m: outChannels, n: kk, k: ld, a: dyg, lda: ld, b: col, ldb: ld, beta: 1, c: dW, ldc: kk)
                }
                if wantDx {
                    // dcol (K x g*HW) = W^T (K x Cout) * dy_group, into col (no longer needed), then col2im
                    BLAS.sgemm(transA: true, m: kk, n: ld, k: outChannels, a: wp.value, lda: kk, b: dyg, ldb: ld, c: col, ldc: ld)
                    for j in 0..<g { col2im(col + j * hw, ld, h, w, dxp.value + (first + j) * inSize, ho, wo) }
                }
            }
        }
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
