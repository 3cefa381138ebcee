import COpenBLAS

/// Thin wrapper over OpenBLAS's CBLAS interface (row-major everywhere in this project).
public enum BLAS {
    /// C = alpha * op(A) * op(B) + beta * C, with op(A) M x K and op(B) K x N, all row-major.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// Sets the number of threads OpenBLAS uses for every later call.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// The number of threads OpenBLAS uses now.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// The build configuration string, for example `OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen`.
    public static var config: String { String(cString: openblas_get_config()) }
    /// The kernel family OpenBLAS selected for this CPU (`Zen`, `Haswell`, ...). Log it: a forced
    /// pre-AVX2 core type costs 2-3x.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
