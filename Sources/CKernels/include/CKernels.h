#ifndef ABL_CKERNELS_H
#define ABL_CKERNELS_H

/// Vector kernels written in C so that each can be compiled for an instruction set the rest of
/// the binary may not assume (AVX-512), and chosen at run time from the CPU's features.

#include <stdint.h>

/// Bits of `abl_cpu_features()`.
enum {
    ABL_CPU_AVX2 = 1 << 0,
    ABL_CPU_FMA = 1 << 1,
    ABL_CPU_AVX512F = 1 << 2,
    ABL_CPU_AVX512BW = 1 << 3,
    ABL_CPU_AVX512VL = 1 << 4,
    ABL_CPU_AVX512DQ = 1 << 5,
    ABL_CPU_AVX512BF16 = 1 << 6,
    ABL_CPU_AVX512FP16 = 1 << 7,
    ABL_CPU_AMX_BF16 = 1 << 8,
};

/// The vector features of the CPU this process runs on (cpuid, with the operating system's
/// consent to save the wider registers checked by the compiler's run-time).
uint32_t abl_cpu_features(void);

/// The CPU's brand string from cpuid ("Intel(R) Xeon(R) ..."), NUL-terminated, into out (49 bytes).
void abl_cpu_brand(char out[49]);

/// Where the taps of an output pixel lie in a padded input (the Swift `Conv3x3Direct.Layout`):
/// output (r, c) reads its first tap at r * out_row_step + c of a padded channel plane, the
/// other taps at + ky * row_step + kx_offset[kx].
typedef struct {
    long ho, wo;
    long plane, row_step, out_row_step;
    long kx0, kx1, kx2;
} abl_conv3x3_layout;

/// y (images, cout, ho, wo) = the 3x3 correlation of the padded planes xp (images, cin planes
/// of `layout.plane` floats) with the weights wq packed as (cout/16, cin, 9, 16): 16 output
/// channels in the lanes of one AVX-512 register, one register per output pixel. Each output
/// is summed over (ci, ky, kx) in that order with one fused multiply-add per term, the order
/// of the AVX2 kernel, so both give the same bits. Needs cout % 16 == 0 and AVX-512F.
void abl_conv3x3_forward_avx512(const float *xp, long cin, const abl_conv3x3_layout *layout, long images,
                                const float *wq, long cout, float *y);

/// One parity class (pi, pj) of the stride-2 input gradient (the Swift
/// `Conv3x3Direct.inputGradientStride2`): dx[img, ci, 2a + pi, 2b + pj] for a < ha, b < wb =
/// Σ_co Σ_k wq[ci/16, co, k, ci%16] * dyp[img, co, a + 1, b + 1 + tap[k]], dyp padded in planes
/// of `plane` floats and rows of pw. The weights packed as (cin/16, cout, taps, 16); needs
/// cin % 16 == 0 and AVX-512F; the same bits as the AVX2 kernel.
void abl_conv3x3_parity_avx512(const float *dyp, long cout, long plane, long pw, long images, long ha, long wb,
                               const long *tap, long taps, const float *wq, long cin, long h, long w,
                               long pi, long pj, float *dx);

/// dyi (images, cout/2, ho, nv, 16) = dy (images, cout, ho, wo) with the rows of channels 2p
/// and 2p+1 side by side in 8-wide pieces: 16 floats = dy[2p, r, 8v ..< 8v+8], dy[2p+1, r, 8v ..< 8v+8],
/// zero past wo. Needs cout even.
void abl_conv3x3_pair_rows(const float *dy, long images, long cout, long ho, long wo, long nv, float *dyi);

/// The weight gradient's lane partials for the 16 output channels of block cb: part (cin, 3 ky,
/// 8 pairs, 3 kx, 16 lanes) = Σ over the images, rows and 8-wide vectors of dyi (from
/// `abl_conv3x3_pair_rows`) times the x vector of each tap, lanes 0-7 for channel 16cb+2p and
/// 8-15 for 16cb+2p+1: the 8 lanes of each channel are the AVX2 kernel's accumulator, summed in
/// the same order, so summing them as it does gives the same bits. Needs AVX-512F.
void abl_conv3x3_weight_partials_avx512(const float *xp, long cin, const abl_conv3x3_layout *layout, long nv, long images,
                                        const float *dyi, long cout, long cb, float *part);

/// xp (c, h+2, row_step) = x (c, h, w) with a zero border (column 0, columns w+1 ..< row_step,
/// rows 0 and h+1): the stride-1 padding of the Swift `Conv3x3Direct.pad`, planes `plane` apart.
/// Needs AVX-512F.
void abl_pad_stride1_avx512(const float *x, long c, long h, long w, long row_step, long plane, float *xp);

#endif
