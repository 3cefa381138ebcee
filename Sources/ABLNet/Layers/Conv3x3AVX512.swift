import CKernels

/// The AVX-512 forward of the direct 3x3 convolution (`CKernels/conv3x3_avx512.c`), used for
/// the forward and the stride-1 input gradient when `Engine.kernels` is `.avx512`.
///
/// It reads the same padded planes (`Conv3x3Direct.Layout`) but turns the register tile
/// around: the 16 lanes of a register are 16 output channels of one output pixel, and a tile is
/// 28 output pixels in (image, row, column) order, each tap one broadcast of an input value.
/// No lane is idle on 28-, 14- or 7-wide rows (the AVX2 kernel's 8-wide row vectors leave 1/8
/// idle there). Each output is the same chain of fused multiply-adds over (ci, ky, kx) as in
/// the AVX2 kernel, so both paths give the same bits.
extension Conv3x3Direct {
    /// Whether a convolution with `cout` output channels takes the AVX-512 forward now.
    static func avx512Takes(cout: Int) -> Bool { Engine.kernels == .avx512 && cout % 16 == 0 }

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

    /// y (images, cout, ho, wo) = correlation of xp (images, cin padded planes in `layout`) with
    /// the weights packed by `pack16` (or `packTransposed16`). Needs cout % 16 == 0 and AVX-512.
    static func forwardAVX512(xp: UnsafePointer<Float>, cin: Int, layout: Layout, images: Int,
                              wq: UnsafePointer<Float>, cout: Int, y: UnsafeMutablePointer<Float>) {
        var l = abl_conv3x3_layout(ho: layout.ho, wo: layout.wo, plane: layout.plane, row_step: layout.rowStep,
                                   out_row_step: layout.outRowStep, kx0: layout.kx0, kx1: layout.kx1, kx2: layout.kx2)
        abl_conv3x3_forward_avx512(xp, cin, &l, images, wq, cout, y)
    }
}
