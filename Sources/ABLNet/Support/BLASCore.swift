import Foundation

/// OpenBLAS's choice of kernels. A DYNAMIC_ARCH OpenBLAS picks its core from cpuid when the
/// library is loaded, before `main`; on a CPU it does not know (OpenBLAS 0.3.21 on Sapphire
/// Rapids) it falls back to a generic SSE3 core (`Prescott`) whatever the CPU's vector units.
/// `OPENBLAS_CORETYPE` overrides the choice, but only when set before the library loads: so a
/// program that wants to set it re-executes itself with it set.
extension BLAS {
    /// The generic cores OpenBLAS falls back to (names as `openblas_get_corename()` gives them).
    static let genericCores: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                            "Katmai", "Coppermine", "Northwood", "Banias", "Athlon", "Opteron",
                                            "Opteron(SSE3)", "Barcelona", "unknown"]

    /// The core to ask for on this CPU: SkylakeX with AVX-512 (F, BW, VL, DQ), Haswell with AVX2
    /// and FMA, nil without (then OpenBLAS's own choice stands).
    public static var preferredCore: String? {
        if CPUFeatures.avx512 { return "SkylakeX" }
        if CPUFeatures.avx2 { return "Haswell" }
        return nil
    }

    /// The environment variable that records the core OpenBLAS chose by itself when this
    /// program set `OPENBLAS_CORETYPE` and re-executed (shown by `abl bench`).
    public static let detectedCoreVariable = "ABL_OPENBLAS_DETECTED_CORE"

    /// The core OpenBLAS chose by itself, when this program replaced it; nil otherwise.
    public static var replacedCore: String? { ProcessInfo.processInfo.environment[detectedCoreVariable] }

    /// When OpenBLAS runs a generic core on a CPU with AVX2 or AVX-512 and the user has not set
    /// `OPENBLAS_CORETYPE`, sets it to `preferredCore` and re-executes this program
    /// (/proc/self/exe, same arguments); returns only when nothing is to be done or the
    /// re-execution failed, in which case the generic core stays.
    public static func reexecWithPreferredCoreIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil, genericCores.contains(coreName), let core = preferredCore else { return }
        setenv(detectedCoreVariable, coreName, 1)
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")   // execv returned: it failed; keep what OpenBLAS chose
        unsetenv(detectedCoreVariable)
    }
}
