#include "CKernels.h"
#include <immintrin.h>

#define ABL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))

/// Output pixels per tile with one block of 16 output channels (28 accumulator registers), and
/// with two blocks (2 x 14: each broadcast input feeds two fused multiply-adds). AVX-512 has
/// 32 vector registers; one or two more hold the weights.
#define TILE 28
#define TILE2 14

int abl_conv3x3_avx512_takes(long wo) { return wo > 0; }

/// Stores acc (16 channels x n pixels, pixel j's channels in acc[j]) to y at yo[j] + lane * hw.
/// When the n pixels are consecutive in one plane, each channel's run is gathered from the
/// buffer (stride 16) and stored as whole vectors.
ABL_AVX512 static inline __attribute__((always_inline)) void store_tile(const __m512 *acc, int n, const long *yo, float *y, long hw) {
    float buf[TILE * 16] __attribute__((aligned(64)));
    for (int j = 0; j < n; j++) _mm512_store_ps(buf + 16 * j, acc[j]);
    if (yo[n - 1] - yo[0] == n - 1) {
        const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(16));
        for (int l = 0; l < 16; l++) {
            float *dst = y + l * hw + yo[0];
            for (int j = 0; j < n; j += 16) {
                const int m = n - j < 16 ? n - j : 16;
                const __mmask16 k = (__mmask16)((1u << m) - 1);
                const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, idx, buf + 16 * j + l, 4);
                _mm512_mask_storeu_ps(dst + j, k, v);
            }
        }
        return;
    }
    for (int l = 0; l < 16; l++) {
        float *dst = y + l * hw;
        for (int j = 0; j < n; j++) dst[yo[j]] = buf[16 * j + l];
    }
}

/// One tile of one block: acc[j] (16 output channels of pixel j) = Σ_ci Σ_ky Σ_kx
/// wq[ci, ky, kx] * x[px[j] + tap], then stored to y at yo[j] + lane * hw.
ABL_AVX512 static void tile1(const float *const px[TILE], const long yo[TILE], long cin, const abl_conv3x3_layout *L,
                             const float *wb, float *y, long hw) {
    __m512 acc[TILE];
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE; j++) acc[j] = _mm512_setzero_ps();
    const long plane = L->plane, rs = L->row_step;
    const long k[3] = {L->kx0, L->kx1, L->kx2};
    for (long ci = 0; ci < cin; ci++) {
        for (long ky = 0; ky < 3; ky++) {
            const long r = ci * plane + ky * rs;
            for (long kx = 0; kx < 3; kx++) {
                const long t = r + k[kx];
                const __m512 w = _mm512_loadu_ps(wb + ((ci * 9 + ky * 3 + kx) << 4));
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(px[j][t]), w, acc[j]);
            }
        }
    }
    store_tile(acc, TILE, yo, y, hw);
}

/// One tile of two blocks (32 output channels x TILE2 pixels); wb2 = the second block's weights.
ABL_AVX512 static void tile2(const float *const px[TILE2], const long yo[TILE2], long cin, const abl_conv3x3_layout *L,
                             const float *wb, const float *wb2, float *y, long hw) {
    __m512 a[TILE2], b[TILE2];
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE2; j++) { a[j] = _mm512_setzero_ps(); b[j] = _mm512_setzero_ps(); }
    const long plane = L->plane, rs = L->row_step;
    const long k[3] = {L->kx0, L->kx1, L->kx2};
    for (long ci = 0; ci < cin; ci++) {
        for (long ky = 0; ky < 3; ky++) {
            const long r = ci * plane + ky * rs;
            for (long kx = 0; kx < 3; kx++) {
                const long t = r + k[kx], o = (ci * 9 + ky * 3 + kx) << 4;
                const __m512 w = _mm512_loadu_ps(wb + o), w2 = _mm512_loadu_ps(wb2 + o);
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE2; j++) {
                    const __m512 v = _mm512_set1_ps(px[j][t]);
                    a[j] = _mm512_fmadd_ps(v, w, a[j]);
                    b[j] = _mm512_fmadd_ps(v, w2, b[j]);
                }
            }
        }
    }
    store_tile(a, TILE2, yo, y, hw);
    store_tile(b, TILE2, yo, y + 16 * hw, hw);
}

ABL_AVX512 void abl_conv3x3_forward_avx512(const float *xp, long cin, const abl_conv3x3_layout *L, long images,
                                           const float *wq, long cout, float *y) {
    const long ho = L->ho, wo = L->wo, hw = ho * wo, pixels = images * hw;
    const long xImage = cin * L->plane, yImage = cout * hw;
    const float *px[TILE];
    long yo[TILE];
    // two blocks at a time while they last, then one
    const long pairs = cout / 32, tileSize[2] = {TILE2, TILE};
    for (long cb = 0; cb < cout / 16; cb += cb < 2 * pairs ? 2 : 1) {
        const int two = cb < 2 * pairs;
        const long n = tileSize[!two];
        const float *wb = wq + cb * cin * 9 * 16;
        float *yb = y + cb * 16 * hw;
        for (long p0 = 0; p0 < pixels; p0 += n) {
            // the last tile repeats the last pixel, which stores the same values again
            for (long j = 0; j < n; j++) {
                long p = p0 + j < pixels ? p0 + j : pixels - 1;
                long img = p / hw, q = p % hw, r = q / wo, c = q % wo;
                px[j] = xp + img * xImage + r * L->out_row_step + c;
                yo[j] = img * yImage + q;
            }
            if (two) tile2(px, yo, cin, L, wb, wb + cin * 9 * 16, yb, hw);
            else tile1(px, yo, cin, L, wb, yb, hw);
        }
    }
}
