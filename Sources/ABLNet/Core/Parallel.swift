import Dispatch

/// Wraps a value so it may cross into a concurrent closure; the caller guarantees that the
/// workers touch disjoint memory (or only read).
public struct UnsafeSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// How many workers the engine's own parallel loops use (OpenBLAS then runs single-threaded
/// inside each worker, to avoid oversubscription). Results depend on this count only through
/// the fixed order of reductions, so the same count gives the same bits.
public enum Engine {
    /// The version of the engine's numerics: bump it when a change to the kernels alters what a
    /// training step computes beyond what the tests accept as equal (a new summation order, a
    /// new algorithm for a layer). The pipeline's training stages put it in their cache keys from
    /// version 2 on, so every cached model, loss file and optimised trigger is then recomputed.
    /// Version 1 is the engine that wrote runs before the key had this field (the direct 3x3
    /// kernels of docs/BENCHMARKS.md; caches written with the im2col engine before them were
    /// accepted as the same, since the two agree to rounding).
    public static let numericsVersion = 1

    nonisolated(unsafe) public private(set) static var workers = 1

    /// Sets the worker count (at least 1) and makes OpenBLAS single-threaded.
    public static func configure(workers n: Int) {
        workers = max(1, n)
        BLAS.setThreads(1)
    }

    /// Runs `body(worker, range)` for `workers` contiguous slices of 0..<total, concurrently.
    @inline(__always)
    public static func parallelRanges(_ total: Int, _ body: (Int, Range<Int>) -> Void) {
        let w = min(workers, max(total, 1))
        if w == 1 { body(0, 0..<total); return }
        withoutActuallyEscaping(body) { b in
            let box = UnsafeSendable(b)
            DispatchQueue.concurrentPerform(iterations: w) { k in
                let lo = total * k / w, hi = total * (k + 1) / w
                box.value(k, lo..<hi)
            }
        }
    }
}
