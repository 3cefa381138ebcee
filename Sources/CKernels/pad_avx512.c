#include "CKernels.h"
#include <immintrin.h>

#define ABL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))

/// Lanes [lo, hi) of a 16-lane mask (empty when hi <= lo).
static inline __mmask16 lanes(long lo, long hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

ABL_AVX512 void abl_pad_stride1_avx512(const float *x, long c, long h, long w, long row_step, long plane, float *xp) {
    const __m512 zero = _mm512_setzero_ps();
    for (long ch = 0; ch < c; ch++) {
        float *dst = xp + ch * plane;
        const float *src = x + ch * h * w;
        for (long k = 0; k < row_step; k += 16) {
            const __mmask16 m = lanes(0, row_step - k);
            _mm512_mask_storeu_ps(dst + k, m, zero);
            _mm512_mask_storeu_ps(dst + (h + 1) * row_step + k, m, zero);
        }
        for (long r = 0; r < h; r++) {
            float *row = dst + (r + 1) * row_step;
            const float *s = src + r * w;
            // padded column k + i holds x column k + i - 1 when that is inside the row; masked-off
            // lanes are neither read nor written
            for (long k = 0; k < row_step; k += 16) {
                const __m512 v = _mm512_maskz_loadu_ps(lanes(1 - k, w + 1 - k), s + k - 1);
                _mm512_mask_storeu_ps(row + k, lanes(0, row_step - k), v);
            }
        }
    }
}
