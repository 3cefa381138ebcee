#include "CKernels.h"
#include <immintrin.h>

#define ABL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))

/// Output pixels per tile with one block of 16 output channels (28 accumulator registers), and
/// with two blocks (2 x 14: each broadcast input feeds two fused multiply-adds). AVX-512 has
/// 32 vector registers; one or two more hold the weights.
#define TILE 28
#define TILE2 14

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

/// One fused multiply-add step of a tile: the weights at wb + o against the input at px[j] + t.
#define STEP1(t, o)                                                                              \
    do {                                                                                         \
        const __m512 w = _mm512_loadu_ps(wb + (o));                                              \
        _Pragma("clang loop unroll(full)")                                                       \
        for (int j = 0; j < TILE; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(px[j][t]), w, acc[j]); \
    } while (0)
#define STEP2(t, o)                                                                              \
    do {                                                                                         \
        const __m512 w = _mm512_loadu_ps(wb + (o)), w2 = _mm512_loadu_ps(wb2 + (o));             \
        _Pragma("clang loop unroll(full)")                                                       \
        for (int j = 0; j < TILE2; j++) {                                                        \
            const __m512 v = _mm512_set1_ps(px[j][t]);                                           \
            a[j] = _mm512_fmadd_ps(v, w, a[j]);                                                  \
            b[j] = _mm512_fmadd_ps(v, w2, b[j]);                                                 \
        }                                                                                        \
    } while (0)
/// The taps of a tile in the order the AVX2 kernels add them: with 9 taps (the 3x3 forward)
/// ky then kx, tap[ky * 3 + kx] = ky * row_step + kx offset, as three row steps of three
/// (fewer live offsets); otherwise the `taps` offsets in turn. Weights at ((ci * taps + k) * 16).
#define TAPS(STEP)                                                                               \
    for (long ci = 0; ci < cin; ci++) {                                                          \
        if (taps == 9) {                                                                         \
            for (long ky = 0; ky < 3; ky++) {                                                    \
                const long r = ci * plane + ky * rs;                                             \
                for (long kx = 0; kx < 3; kx++) STEP(r + k3[kx], (ci * 9 + ky * 3 + kx) << 4);   \
            }                                                                                    \
        } else {                                                                                 \
            _Pragma("clang loop unroll(full)")                                                   \
            for (long k = 0; k < taps; k++) STEP(ci * plane + tap[k], (ci * taps + k) << 4);    \
        }                                                                                        \
    }

/// One tile of one block: acc[j] (16 output channels of pixel j) = Σ_ci Σ_k wb[ci, k] * x[px[j] +
/// ci * plane + tap[k]], then stored to y at yo[j] + lane * hw.
ABL_AVX512 static inline __attribute__((always_inline)) void tile1(const float *const px[TILE], const long yo[TILE], long cin,
                                                                   long plane, const long *tap, long taps,
                                                                   const float *wb, float *y, long hw) {
    __m512 acc[TILE];
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE; j++) acc[j] = _mm512_setzero_ps();
    const long rs = taps == 9 ? tap[3] - tap[0] : 0, k3[3] = {tap[0], taps > 1 ? tap[1] : 0, taps > 2 ? tap[2] : 0};
    TAPS(STEP1)
    store_tile(acc, TILE, yo, y, hw);
}

/// One tile of two blocks (32 output channels x TILE2 pixels); wb2 = the second block's weights.
ABL_AVX512 static inline __attribute__((always_inline)) void tile2(const float *const px[TILE2], const long yo[TILE2], long cin,
                                                                   long plane, const long *tap, long taps,
                                                                   const float *wb, const float *wb2, float *y, long hw) {
    __m512 a[TILE2], b[TILE2];
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE2; j++) { a[j] = _mm512_setzero_ps(); b[j] = _mm512_setzero_ps(); }
    const long rs = taps == 9 ? tap[3] - tap[0] : 0, k3[3] = {tap[0], taps > 1 ? tap[1] : 0, taps > 2 ? tap[2] : 0};
    TAPS(STEP2)
    store_tile(a, TILE2, yo, y, hw);
    store_tile(b, TILE2, yo, y + 16 * hw, hw);
}

/// The correlation over a grid of output pixels: pixel (img, r, c) reads its taps from
/// x + img * in_image + r * in_row + c, and its 16 channels of a block go to
/// y + img * out_image + r * out_row + c * out_col + lane * hw.
typedef struct {
    long images, rows, cols;
    long in_image, in_row;
    long out_image, out_row, out_col;
} grid;

ABL_AVX512 static inline __attribute__((always_inline)) void correlate(const float *x, long cin, long plane, const long *tap, long taps, const grid *g,
                                 const float *wq, long cout, float *y, long hw) {
    const long per = g->rows * g->cols, pixels = g->images * per;
    const float *px[TILE];
    long yo[TILE];
    // two blocks at a time while they last, then one
    const long pairs = cout / 32;
    for (long cb = 0; cb < cout / 16; cb += cb < 2 * pairs ? 2 : 1) {
        const int two = cb < 2 * pairs;
        const long n = two ? TILE2 : TILE;
        const float *wb = wq + cb * cin * taps * 16;
        float *yb = y + cb * 16 * hw;
        for (long p0 = 0; p0 < pixels; p0 += n) {
            // the last tile repeats the last pixel, which stores the same values again
            for (long j = 0; j < n; j++) {
                long p = p0 + j < pixels ? p0 + j : pixels - 1;
                long img = p / per, q = p % per, r = q / g->cols, c = q % g->cols;
                px[j] = x + img * g->in_image + r * g->in_row + c;
                yo[j] = img * g->out_image + r * g->out_row + c * g->out_col;
            }
            if (two) tile2(px, yo, cin, plane, tap, taps, wb, wb + cin * taps * 16, yb, hw);
            else tile1(px, yo, cin, plane, tap, taps, wb, yb, hw);
        }
    }
}

/// `correlate` compiled for each tap count (9: the forward; 1, 2 and 4: the parity classes), so
/// that the tap loop is unrolled.
#define CORRELATE(n) \
    ABL_AVX512 static void correlate##n(const float *x, long cin, long plane, const long *tap, const grid *g, \
                                        const float *wq, long cout, float *y, long hw) { \
        correlate(x, cin, plane, tap, n, g, wq, cout, y, hw); \
    }
CORRELATE(9)
CORRELATE(4)
CORRELATE(2)
CORRELATE(1)

ABL_AVX512 void abl_conv3x3_forward_avx512(const float *xp, long cin, const abl_conv3x3_layout *L, long images,
                                           const float *wq, long cout, float *y) {
    const long hw = L->ho * L->wo;
    const long kx[3] = {L->kx0, L->kx1, L->kx2};
    long tap[9];
    for (int ky = 0; ky < 3; ky++) for (int k = 0; k < 3; k++) tap[ky * 3 + k] = ky * L->row_step + kx[k];
    const grid g = {images, L->ho, L->wo, cin * L->plane, L->out_row_step, cout * hw, L->wo, 1};
    correlate9(xp, cin, L->plane, tap, &g, wq, cout, y, hw);
}

ABL_AVX512 void abl_conv3x3_parity_avx512(const float *dyp, long cout, long plane, long pw, long images, long ha, long wb,
                                          const long *tap, long taps, const float *wq, long cin, long h, long w,
                                          long pi, long pj, float *dx) {
    const grid g = {images, ha, wb, cout * plane, pw, cin * h * w, 2 * w, 2};
    const float *x = dyp + pw + 1;
    float *y = dx + pi * w + pj;
    switch (taps) {
    case 4: correlate4(x, cout, plane, tap, &g, wq, cin, y, h * w); break;
    case 2: correlate2(x, cout, plane, tap, &g, wq, cin, y, h * w); break;
    default: correlate1(x, cout, plane, tap, &g, wq, cin, y, h * w); break;
    }
}
