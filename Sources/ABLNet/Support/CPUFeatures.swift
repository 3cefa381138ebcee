import CKernels

/// The vector features of the CPU this process runs on, read once (cpuid).
public enum CPUFeatures {
    public static let bits: UInt32 = abl_cpu_features()

    public static var avx2: Bool { bits & UInt32(ABL_CPU_AVX2) != 0 && bits & UInt32(ABL_CPU_FMA) != 0 }
    /// AVX-512 as the engine's kernels use it: foundation, byte/word, vector-length and dword/qword.
    public static var avx512: Bool {
        let want = UInt32(ABL_CPU_AVX512F | ABL_CPU_AVX512BW | ABL_CPU_AVX512VL | ABL_CPU_AVX512DQ)
        return bits & want == want
    }

    /// The features that matter to the engine and to OpenBLAS, by their `/proc/cpuinfo` names.
    public static var names: [String] {
        let all: [(Int, String)] = [(ABL_CPU_AVX2, "avx2"), (ABL_CPU_FMA, "fma"), (ABL_CPU_AVX512F, "avx512f"),
                                      (ABL_CPU_AVX512BW, "avx512bw"), (ABL_CPU_AVX512VL, "avx512vl"), (ABL_CPU_AVX512DQ, "avx512dq"),
                                      (ABL_CPU_AVX512BF16, "avx512_bf16"), (ABL_CPU_AVX512FP16, "avx512_fp16"), (ABL_CPU_AMX_BF16, "amx_bf16")]
        return all.filter { bits & UInt32($0.0) != 0 }.map(\.1)
    }

    /// The CPU's brand string ("Intel(R) Xeon(R) Processor"), empty when cpuid has none.
    public static let model: String = {
        var b = [CChar](repeating: 0, count: 49)
        abl_cpu_brand(&b)
        return String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingSpaces()
    }()
}

/// Which family of hand-written kernels the engine runs. The Swift kernels are compiled for AVX2
/// and FMA (Package.swift), the minimum this build runs on; `avx512` adds the C kernels of
/// `CKernels` for the shapes they take and falls back to the AVX2 ones elsewhere.
public enum KernelSet: String, CaseIterable, Sendable {
    case avx2
    case avx512

    /// The widest set this CPU runs.
    public static var best: KernelSet { CPUFeatures.avx512 ? .avx512 : .avx2 }
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
