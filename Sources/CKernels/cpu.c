#include "CKernels.h"
#include <cpuid.h>
#include <string.h>

uint32_t abl_cpu_features(void) {
    __builtin_cpu_init();
    uint32_t f = 0;
    if (__builtin_cpu_supports("avx2")) f |= ABL_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= ABL_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= ABL_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= ABL_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= ABL_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512dq")) f |= ABL_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512bf16")) f |= ABL_CPU_AVX512BF16;
    if (__builtin_cpu_supports("avx512fp16")) f |= ABL_CPU_AVX512FP16;
    // AMX: cpuid leaf 7, edx bit 22 (the OS must also grant the tile state; not used for compute here)
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22))) f |= ABL_CPU_AMX_BF16;
    return f;
}

void abl_cpu_brand(char out[49]) {
    unsigned r[12] = {0};
    memset(out, 0, 49);
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000004) return;
    for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
    memcpy(out, r, 48);
}
