import CKernels

/// The AVX-512 forward of the direct 3x3 convolution (`CKernels/conv3x3_avx512.c`), used for
/// the forward and the stride-1 input gradient when the engine's kernel set is `.avx512`.
///
/// It reads the same padded planes (`Conv3x3Direct.Layout`) but turns the register tile
/// around: the 16 lanes of a register are 16 output channels of one output pixel, and a tile is
/// 28 output pixels in (image, row, column) order, each tap one broadcast of an input value.
/// No lane is idle on 28-, 14- or 7-wide rows (the AVX2 kernel's 8-wide row vectors leave 1/8
/// idle there). Each output is the same chain of fused multiply-adds over (ci, ky, kx) as in
/// the AVX2 kernel, so both paths give the same bits.
extension Conv3x3Direct {
    /// Whether a convolution with `cout` output channels takes the AVX-512 forward with `kernels`.
    static func avx512Takes(cout: Int, _ kernels: KernelSet) -> Bool { kernels == .avx512 && cout % 16 == 0 }

    /// The stride-1 `pad` with AVX-512 masked loads and stores (a few per row, no scalar tails).
    static func padAVX512(_ x: UnsafePointer<Float>, channels c: Int, _ layout: Layout, into xp: UnsafeMutablePointer<Float>) {
        abl_pad_stride1_avx512(x, c, layout.h, layout.w, layout.rowStep, layout.plane, xp)
    }

    /// Packs w (cout, cin, 3, 3) as (cout/16, cin, 9, 16): 16 output channels side by side.
    static func pack16(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for co in 0..<cout { for ci in 0..<cin { for t in 0..<9 {
            p[(((co / 16) * cin + ci) * 9 + t) * 16 + co % 16] = w[(co * cin + ci) * 9 + t]
        } } }
    }

    /// Packs the input gradient's weights w'[ci, co, t] = w[co, ci, 8 - t] (flipped taps,
    /// channels swapped) as (cin/16, cout, 9, 16). Needs cin % 16 == 0.
    static func packTransposed16(_ w: UnsafePointer<Float>, cout: Int, cin: Int, into p: UnsafeMutablePointer<Float>) {
        for ci in 0..<cin { for co in 0..<cout { for t in 0..<9 {
            p[(((ci / 16) * cout + co) * 9 + t) * 16 + ci % 16] = w[(co * cin + ci) * 9 + 8 - t]
        } } }
    }

    /// Packs one parity class's weights of the stride-2 input gradient as (cin/16, cout, taps, 16).
    static func packParity16(_ w: UnsafePointer<Float>, cout: Int, cin: Int, _ cls: ParityClass, into p: UnsafeMutablePointer<Float>) {
        let t = cls.taps.count
        for ci in 0..<cin { for co in 0..<cout { for (k, tap) in cls.taps.enumerated() {
            p[(((ci / 16) * cout + co) * t + k) * 16 + ci % 16] = w[(co * cin + ci) * 9 + tap.ky * 3 + tap.kx]
        } } }
    }

    /// One parity class of the stride-2 input gradient (`inputGradientStride2`) with 16 input
    /// channels per register; weights from `packParity16`. Needs cin % 16 == 0 and AVX-512.
    static func inputGradientStride2AVX512(dyp: UnsafePointer<Float>, cout: Int, out: Layout, images: Int, _ cls: ParityClass,
                                           wq: UnsafePointer<Float>, cin: Int, h: Int, w: Int, dx: UnsafeMutablePointer<Float>) {
        let ha = (h - cls.pi + 1) / 2, wb = (w - cls.pj + 1) / 2
        guard ha > 0, wb > 0 else { return }
        let taps = cls.taps.map { $0.dr * out.rowStep + $0.dc }
        abl_conv3x3_parity_avx512(dyp, cout, out.plane, out.rowStep, images, ha, wb, taps, taps.count, wq, cin, h, w, cls.pi, cls.pj, dx)
    }

    /// y (images, cout, ho, wo) = correlation of xp (images, cin padded planes in `layout`) with
    /// the weights packed by `pack16` (or `packTransposed16`). Needs cout % 16 == 0 and AVX-512.
    static func forwardAVX512(xp: UnsafePointer<Float>, cin: Int, layout: Layout, images: Int,
                              wq: UnsafePointer<Float>, cout: Int, y: UnsafeMutablePointer<Float>) {
        var l = abl_conv3x3_layout(ho: layout.ho, wo: layout.wo, plane: layout.plane, row_step: layout.rowStep,
                                   out_row_step: layout.outRowStep, kx0: layout.kx0, kx1: layout.kx1, kx2: layout.kx2)
        abl_conv3x3_forward_avx512(xp, cin, &l, images, wq, cout, y)
    }
}

/// The AVX-512 weight gradient. Its registers hold two output channels each (lanes 0-7 and
/// 8-15, from dy with the rows of a channel pair interleaved, `abl_conv3x3_pair_rows`) against
/// one 8-wide x vector broadcast to both halves: each half is the AVX2 kernel's 8-lane
/// accumulator, added to in the same order, and the lanes are summed here by the same
/// `SIMD8.sum()`, so both paths give the same bits.
extension Conv3x3Direct {
    /// Floats of the interleaved dy of `images` images (`pairRows`) and of one block's lane partials.
    static func pairRowsCount(images: Int, cout: Int, layout: Layout) -> Int { images * cout * layout.ho * layout.nv * 8 }
    static func partialsCount(cin: Int) -> Int { cin * 3 * 8 * 3 * 16 }

    /// dw (cout, cin, 3, 3) += the weight gradient over `images` images of xp (padded in `layout`)
    /// and dy (images, cout, ho, wo), unpadded. Needs cout % 16 == 0 and AVX-512; `pairs` and
    /// `partials` are scratch of `pairRowsCount` and `partialsCount` floats.
    static func weightGradientAVX512(xp: UnsafePointer<Float>, cin: Int, layout: Layout, images: Int,
                                     dy: UnsafePointer<Float>, cout: Int, pairs: UnsafeMutablePointer<Float>,
                                     partials: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        var l = abl_conv3x3_layout(ho: layout.ho, wo: layout.wo, plane: layout.plane, row_step: layout.rowStep,
                                   out_row_step: layout.outRowStep, kx0: layout.kx0, kx1: layout.kx1, kx2: layout.kx2)
        abl_conv3x3_pair_rows(dy, images, cout, layout.ho, layout.wo, layout.nv, pairs)
        let raw = UnsafeRawPointer(partials)
        for cb in 0..<(cout / 16) {
            abl_conv3x3_weight_partials_avx512(xp, cin, &l, layout.nv, images, pairs, cout, cb, partials)
            // part (cin, ky, pair, kx, 16): lanes 0-7 channel 16cb + 2p, lanes 8-15 channel 16cb + 2p + 1
            for ci in 0..<cin { for ky in 0..<3 { for p in 0..<8 { for kx in 0..<3 {
                let o = (((ci * 3 + ky) * 8 + p) * 3 + kx) * 16
                let lo = raw.loadUnaligned(fromByteOffset: o * 4, as: V.self)
                let hi = raw.loadUnaligned(fromByteOffset: (o + 8) * 4, as: V.self)
                let co = cb * 16 + 2 * p, t = ky * 3 + kx
                dw[(co * cin + ci) * 9 + t] += lo.sum()
                dw[((co + 1) * cin + ci) * 9 + t] += hi.sum()
            } } } }
        }
    }
}

extension Conv2D {
    /// The kernels this layer runs with its engine settings, for `abl bench`:
    /// `avx512` or `avx2` (the direct 3x3 kernels), `avx2-parity` (the stride-2 input gradient),
    /// `im2col+sgemm`, or `none` (an input gradient not computed).
    public var kernelPaths: (forward: String, weightGradient: String, inputGradient: String) {
        let direct = engine.conv.directKernels && (stride == 1 || engine.conv.directStride2)
            && Conv3x3Direct.applies(kernel: kernel, stride: stride, padding: padding, outChannels: outChannels)
        guard direct else { return ("im2col+sgemm", "im2col+sgemm", computeInputGradient ? "im2col+sgemm" : "none") }
        let wide = Conv3x3Direct.avx512Takes(cout: outChannels, engine.kernels) ? "avx512" : "avx2"
        let dx: String
        if !computeInputGradient { dx = "none" }
        else if inChannels % 4 != 0 { dx = "im2col+sgemm" }
        else if Conv3x3Direct.avx512Takes(cout: inChannels, engine.kernels) { dx = "avx512" }
        else { dx = stride == 2 ? "avx2-parity" : "avx2" }
        return (wide, wide, dx)
    }
}
