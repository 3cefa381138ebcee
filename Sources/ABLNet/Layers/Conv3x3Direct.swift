/// Direct kernels for the 3x3, padding-1 convolution with stride 1 or 2, a chunk of images at a
/// time, with no im2col and no BLAS call: nearly all of WRN's and PreAct-ResNet's FLOPs are in
/// these two shapes.
///
/// Padded planes (`Layout`): with stride 1 an input x (C, H, W) is copied into `xp` (C, H+2, pw)
/// with a zero border, where `pw = 8*nv + 2` and `nv = ceil(Wo/8)` is the number of 8-wide
/// vectors per output row; the columns past W+1 are zero too, so a vector that hangs over the
/// right edge reads zeros. Then
///
///     y[co, r, c] = Σ_ci Σ_ky Σ_kx w[co, ci, ky, kx] * xp[ci, s*r + ky, s*c + kx]
///
/// With stride 2 the taps of 8 neighbouring outputs are every other padded column, so each
/// padded row is stored as two phases, its even columns then its odd ones: kx = 0, 1, 2 read the
/// even phase at c, the odd phase at c and the even phase at c + 1, all contiguous.
///
/// Register blocking (AVX2, 16 vector registers): 4 output channels x 3 output vectors = 12
/// accumulators; per (ci, ky, kx) 3 vector loads, 4 broadcasts and 12 FMAs.
///
/// The input gradient of the stride-1 convolution is the same correlation of the padded dy with
/// the weights flipped in space and with in/out channels swapped (`packTransposed`), so
/// `forward` computes it too. The weight gradient `weightGradient` correlates the padded dy with
/// the padded x.
///
/// With AVX-512 (`EngineSettings.kernels`), `Conv3x3AVX512.swift` runs the same correlations with 16
/// channels per register instead, to the same bits.
enum Conv3x3Direct {
    typealias V = SIMD8<Float>

    /// The shapes these kernels take: 3x3, padding 1, stride 1 or 2, output channels a multiple of 4.
    static func applies(kernel: Int, stride: Int, padding: Int, outChannels: Int) -> Bool {
        kernel == 3 && (stride == 1 || stride == 2) && padding == 1 && outChannels % 4 == 0
    }

    /// Where the taps of an output vector lie in a padded input of size (h, w).
    struct Layout {
        let h, w, stride: Int
        /// Output size.
        let ho, wo: Int
        /// 8-wide vectors per output row.
        let nv: Int
        /// Floats from one padded input row to the next (one ky step).
        let rowStep: Int
        /// Offsets of the kx = 0, 1, 2 taps from an output vector's first tap.
        let kx0, kx1, kx2: Int
        /// Floats from the first tap of one output row to the next row's.
        let outRowStep: Int
        /// Floats per padded channel.
        let plane: Int

        init(h: Int, w: Int, stride: Int) {
            self.h = h; self.w = w; self.stride = stride
            ho = (h - 1) / stride + 1; wo = (w - 1) / stride + 1
            nv = (wo + 7) / 8
            let phase = 8 * nv + 2      // a padded row (stride 1) or one phase of it (stride 2)
            if stride == 1 {
                rowStep = phase; (kx0, kx1, kx2) = (0, 1, 2); outRowStep = phase
            } else {
                rowStep = 2 * phase; (kx0, kx1, kx2) = (0, phase, 1); outRowStep = 2 * rowStep
            }
            plane = (h + 2) * rowStep
        }

        /// The layout of this convolution's output gradient, padded for the stride-1 kernels.
        var outputLayout: Layout { Layout(h: ho, w: wo, stride: 1) }
    }

    /// xp (c, h+2, ·) = x (c, h, w) in `layout`: a zero border and zero right overhang; with
    /// stride 2 each padded row is its even columns followed by its odd ones.
    static func pad(_ x: UnsafePointer<Float>, channels c: Int, _ layout: Layout, kernels: KernelSet, into xp: UnsafeMutablePointer<Float>) {
        let (h, w, rowStep) = (layout.h, layout.w, layout.rowStep)
        if layout.stride == 1 && kernels == .avx512 { return padAVX512(x, channels: c, layout, into: xp) }
        for ch in 0..<c {
            let dst = xp + ch * layout.plane, src = x + ch * h * w
            dst.update(repeating: 0, count: rowStep)                       // top border row
            (dst + (h + 1) * rowStep).update(repeating: 0, count: rowStep) // bottom border row
            for r in 0..<h {
                let row = dst + (r + 1) * rowStep, s = src + r * w
                if layout.stride == 1 {
                    // rows are short (7 to 32 floats): inline vector copies, no memmove/memset calls
                    row[0] = 0
                    let d = row + 1
                    var j = 0
                    while j + 8 <= w {
                        UnsafeMutableRawPointer(d + j).storeBytes(of: UnsafeRawPointer(s + j).loadUnaligned(as: V.self), as: V.self)
                        j += 8
                    }
                    while j < w { d[j] = s[j]; j += 1 }
                    var k = 1 + w
                    while k < rowStep { row[k] = 0; k += 1 }
                } else {
                    // padded column 2j is x column 2j - 1 (even phase), 2j + 1 is x column 2j (odd phase)
                    let phase = rowStep / 2, odd = row + phase
                    let evens = w / 2, odds = (w + 1) / 2     // j = 1...evens and j = 0..<odds read x
                    row[0] = 0
                    for j in 0..<evens { row[1 + j] = s[2 * j + 1] }
                    for j in (1 + evens)..<phase { row[j] = 0 }
                    for j in 0..<odds { odd[j] = s[2 * j] }
                    for j in odds..<phase { odd[j] = 0 }
                }
            }
        }
    }

    /// Packs w (cout, cin, 3, 3) as (cout/4, cin, 9, 4): the 4 output channels of a block side by side.
    static func pack(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for co in 0..<cout { for ci in 0..<cin { for t in 0..<9 {
            p[(((co / 4) * cin + ci) * 9 + t) * 4 + co % 4] = w[(co * cin + ci) * 9 + t]
        } } }
    }

    /// Packs the weights of the input gradient: w'[ci, co, t] = w[co, ci, 8 - t] (flipped taps,
    /// channels swapped), as (cin/4, cout, 9, 4). Needs cin % 4 == 0.
    static func packTransposed(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin { for co in 0..<cout { for t in 0..<9 {
            p[(((ci / 4) * cout + co) * 9 + t) * 4 + ci % 4] = w[(co * cin + ci) * 9 + 8 - t]
        } } }
    }

    /// Stores the first n lanes of v at dst.
    @inline(__always)
    static func store(_ v: V, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        if n >= 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: v, as: V.self)
        } else if n >= 4 {
            // the row tails of 28-, 14- and 7-wide maps: half a vector, then the rest
            UnsafeMutableRawPointer(dst).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
            for i in 4..<n { dst[i] = v[i] }
        } else {
            for i in 0..<n { dst[i] = v[i] }
        }
    }

    /// y (images, cout, ho, wo) = correlation of xp (images, cin padded planes in `layout`) with
    /// the packed weights `wp` (cout/4, cin, 9, 4). Output vectors are taken 3 at a time over the
    /// flattened (image, row, vector) index, so small planes (an 8x8 or 7x7 map is 8 or 7
    /// vectors) fill whole tiles across images; the last tile repeats the last vector, which
    /// stores the same values twice.
    static func forward(xp: UnsafePointer<Float>, cin: Int, layout: Layout, images: Int,
                        wp: UnsafePointer<Float>, cout: Int, y: UnsafeMutablePointer<Float>) {
        let (nv, wo, plane, rowStep, outRowStep) = (layout.nv, layout.wo, layout.plane, layout.rowStep, layout.outRowStep)
        let (k0, k1, k2) = (layout.kx0, layout.kx1, layout.kx2)
        let hw = layout.ho * wo, perImage = layout.ho * nv, slots = images * perImage
        let raw = UnsafeRawPointer(xp)
        // offset of a vector's first tap in xp
        @inline(__always) func input(_ slot: Int) -> Int {
            let img = slot / perImage, rem = slot % perImage
            return img * cin * plane + (rem / nv) * outRowStep + (rem % nv) * 8
        }
        for cb in 0..<(cout / 4) {
            let wb = wp + cb * cin * 36
            var s = 0
            while s < slots {
                let s1 = min(s + 1, slots - 1), s2 = min(s + 2, slots - 1)
                let o0 = input(s), o1 = input(s1), o2 = input(s2)
                var a00 = V(), a01 = V(), a02 = V()   // channel 0 of the block, vectors 0, 1, 2
                var a10 = V(), a11 = V(), a12 = V()
                var a20 = V(), a21 = V(), a22 = V()
                var a30 = V(), a31 = V(), a32 = V()
                for ci in 0..<cin {
                    let wc = wb + ci * 36
                    for ky in 0..<3 {
                        let r = ci &* plane &+ ky &* rowStep
                        for kx in 0..<3 {
                            let t = r &+ (kx == 0 ? k0 : kx == 1 ? k1 : k2)
                            let v0 = raw.loadUnaligned(fromByteOffset: (o0 &+ t) &* 4, as: V.self)
                            let v1 = raw.loadUnaligned(fromByteOffset: (o1 &+ t) &* 4, as: V.self)
                            let v2 = raw.loadUnaligned(fromByteOffset: (o2 &+ t) &* 4, as: V.self)
                            let wt = wc + (ky * 3 + kx) * 4
                            let w0 = V(repeating: wt[0]), w1 = V(repeating: wt[1])
                            let w2 = V(repeating: wt[2]), w3 = V(repeating: wt[3])
                            a00 = a00.addingProduct(v0, w0); a01 = a01.addingProduct(v1, w0); a02 = a02.addingProduct(v2, w0)
                            a10 = a10.addingProduct(v0, w1); a11 = a11.addingProduct(v1, w1); a12 = a12.addingProduct(v2, w1)
                            a20 = a20.addingProduct(v0, w2); a21 = a21.addingProduct(v1, w2); a22 = a22.addingProduct(v2, w2)
                            a30 = a30.addingProduct(v0, w3); a31 = a31.addingProduct(v1, w3); a32 = a32.addingProduct(v2, w3)
                        }
                    }
                }
                // each vector's 4 channels at its (image, row, column); lanes inside the row only
                @inline(__always) func put(_ slot: Int, _ c0: V, _ c1: V, _ c2: V, _ c3: V) {
                    let img = slot / perImage, rem = slot % perImage
                    let col = (rem % nv) * 8, n = wo - col
                    let d = y + (img * cout + cb * 4) * hw + (rem / nv) * wo + col
                    store(c0, d, n); store(c1, d + hw, n); store(c2, d + 2 * hw, n); store(c3, d + 3 * hw, n)
                }
                put(s, a00, a10, a20, a30)
                put(s1, a01, a11, a21, a31)
                put(s2, a02, a12, a22, a32)
                s += 3
            }
        }
    }

    /// dw (cout, cin, 3, 3) += Σ_images Σ_outputs dy[co, r, c] * xp[ci, s*r + ky, s*c + kx], over
    /// `images` consecutive images of xp (cin planes each, in `layout`) and dyp (dy padded in
    /// `layout.outputLayout`, cout planes each; its border and overhang are zero, so overhanging
    /// lanes add nothing). Blocks of 4 output channels x the 3 kx taps = 12 accumulators per
    /// (ci, ky), summed across lanes once per block and chunk of images (not per image: an 8x8
    /// plane is only 8 vectors). Per vector: 3 x loads, then for each of the 4 channels one dy
    /// load and 3 FMAs, which keeps 12 accumulators + 3 + 1 values within the 16 AVX2 registers.
    static func weightGradient(xp: UnsafePointer<Float>, cin: Int, layout: Layout, images: Int,
                               dyp: UnsafePointer<Float>, cout: Int, dw: UnsafeMutablePointer<Float>) {
        let out = layout.outputLayout
        let (nv, plane, rowStep, outRowStep) = (layout.nv, layout.plane, layout.rowStep, layout.outRowStep)
        let (k0, k1, k2) = (layout.kx0, layout.kx1, layout.kx2)
        let dPlane = out.plane, dRow = out.rowStep
        let xImage = cin * plane, dyImage = cout * dPlane
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        for cb in 0..<(cout / 4) {
            for ci in 0..<cin {
                for ky in 0..<3 {
                    var a00 = V(), a01 = V(), a02 = V()   // output channel 0 of the block, kx = 0, 1, 2
                    var a10 = V(), a11 = V(), a12 = V()
                    var a20 = V(), a21 = V(), a22 = V()
                    var a30 = V(), a31 = V(), a32 = V()
                    for img in 0..<images {
                        // dy[cb*4, 0, 0] and the first tap of output row 0 at this ky, in this image
                        let gOffset: Int = img &* dyImage &+ cb &* 4 &* dPlane &+ dRow &+ 1
                        let xOffset: Int = img &* xImage &+ ci &* plane &+ ky &* rowStep
                        let g = dyp + gOffset, x = xp + xOffset
                        for r in 0..<layout.ho {
                            var gr = g + r &* dRow, xr = x + r &* outRowStep
                            for _ in 0..<nv {
                                let x0 = load(xr + k0), x1 = load(xr + k1), x2 = load(xr + k2)
                                var d = load(gr)
                                a00 = a00.addingProduct(d, x0); a01 = a01.addingProduct(d, x1); a02 = a02.addingProduct(d, x2)
                                d = load(gr + dPlane)
                                a10 = a10.addingProduct(d, x0); a11 = a11.addingProduct(d, x1); a12 = a12.addingProduct(d, x2)
                                d = load(gr + 2 &* dPlane)
                                a20 = a20.addingProduct(d, x0); a21 = a21.addingProduct(d, x1); a22 = a22.addingProduct(d, x2)
                                d = load(gr + 3 &* dPlane)
                                a30 = a30.addingProduct(d, x0); a31 = a31.addingProduct(d, x1); a32 = a32.addingProduct(d, x2)
                                gr += 8; xr += 8
                            }
                        }
                    }
                    var p = dw + ((cb * 4) * cin + ci) * 9 + ky * 3
                    p[0] += a00.sum(); p[1] += a01.sum(); p[2] += a02.sum()
                    p += cin * 9
                    p[0] += a10.sum(); p[1] += a11.sum(); p[2] += a12.sum()
                    p += cin * 9
                    p[0] += a20.sum(); p[1] += a21.sum(); p[2] += a22.sum()
                    p += cin * 9
                    p[0] += a30.sum(); p[1] += a31.sum(); p[2] += a32.sum()
                }
            }
        }
    }
}
