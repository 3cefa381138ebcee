#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

#define ABL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx2")))

void abl_conv3x3_pair_rows(const float *dy, long images, long cout, long ho, long wo, long nv, float *dyi) {
    const long hw = ho * wo, row = nv * 16;
    for (long img = 0; img < images; img++) {
        for (long p = 0; p < cout / 2; p++) {
            const float *a = dy + (img * cout + 2 * p) * hw, *b = a + hw;
            float *d = dyi + ((img * (cout / 2) + p) * ho) * row;
            for (long r = 0; r < ho; r++, d += row) {
                memset(d, 0, sizeof(float) * row);
                for (long c = 0; c < wo; c++) {
                    d[(c >> 3) * 16 + (c & 7)] = a[r * wo + c];
                    d[(c >> 3) * 16 + 8 + (c & 7)] = b[r * wo + c];
                }
            }
        }
    }
}

ABL_AVX512 void abl_conv3x3_weight_partials_avx512(const float *xp, long cin, const abl_conv3x3_layout *L, long nv, long images,
                                                   const float *dyi, long cout, long cb, float *part) {
    const long ho = L->ho, plane = L->plane, rs = L->row_step, ors = L->out_row_step;
    const long k0 = L->kx0, k1 = L->kx1, k2 = L->kx2;
    const long xImage = cin * plane, pairRows = ho * nv * 16, dyImage = (cout / 2) * pairRows;
    const float *g0 = dyi + cb * 8 * pairRows;    // pair 0 of this block in image 0
    for (long ci = 0; ci < cin; ci++) {
        for (long ky = 0; ky < 3; ky++) {
            __m512 a[8][3];
#pragma clang loop unroll(full)
            for (int p = 0; p < 8; p++) { a[p][0] = _mm512_setzero_ps(); a[p][1] = _mm512_setzero_ps(); a[p][2] = _mm512_setzero_ps(); }
            for (long img = 0; img < images; img++) {
                const float *x = xp + img * xImage + ci * plane + ky * rs;
                const float *g = g0 + img * dyImage;
                for (long r = 0; r < ho; r++) {
                    const float *xr = x + r * ors, *gr = g + r * nv * 16;
                    for (long v = 0; v < nv; v++, xr += 8, gr += 16) {
                        const __m512 x0 = _mm512_broadcast_f32x8(_mm256_loadu_ps(xr + k0));
                        const __m512 x1 = _mm512_broadcast_f32x8(_mm256_loadu_ps(xr + k1));
                        const __m512 x2 = _mm512_broadcast_f32x8(_mm256_loadu_ps(xr + k2));
#pragma clang loop unroll(full)
                        for (int p = 0; p < 8; p++) {
                            const __m512 d = _mm512_loadu_ps(gr + p * pairRows);
                            a[p][0] = _mm512_fmadd_ps(d, x0, a[p][0]);
                            a[p][1] = _mm512_fmadd_ps(d, x1, a[p][1]);
                            a[p][2] = _mm512_fmadd_ps(d, x2, a[p][2]);
                        }
                    }
                }
            }
            float *o = part + (ci * 3 + ky) * 8 * 3 * 16;
#pragma clang loop unroll(full)
            for (int p = 0; p < 8; p++) {
                _mm512_storeu_ps(o + (p * 3 + 0) * 16, a[p][0]);
                _mm512_storeu_ps(o + (p * 3 + 1) * 16, a[p][1]);
                _mm512_storeu_ps(o + (p * 3 + 2) * 16, a[p][2]);
            }
        }
    }
}
