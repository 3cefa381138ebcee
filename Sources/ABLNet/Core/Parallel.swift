import Dispatch

/// Wraps a value so it may cross into a concurrent closure; the caller guarantees that the
/// workers touch disjoint memory (or only read).
public struct UnsafeSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// Facts about the engine's numerics shared by every network.
public enum Engine {
    /// The version of the engine's numerics: bump it when a change to the kernels alters what a
    /// training step computes beyond what the tests accept as equal (a new summation order, a
    /// new algorithm for a layer). The pipeline's training stages put it in their cache keys from
    /// version 2 on, so every cached model, loss file and optimised trigger is then recomputed.
    /// Version 1 is the engine that wrote runs before the key had this field (the direct 3x3
    /// kernels of docs/BENCHMARKS.md; caches written with the im2col engine before them were
    /// accepted as the same, since the two agree to rounding).
    public static let numericsVersion = 1
}

/// How a network runs: given to the model builder (`Architecture.build`), held by the network
/// and each of its layers, never changed after. Results depend on `workers` only through the
/// fixed order of reductions, so the same settings give the same bits; the kernel set and the
/// convolution options change speed, not bits (`KernelDispatchTests`, `Conv3x3DirectTests`).
public struct EngineSettings: Sendable, Equatable {
    /// Workers of the engine's own parallel loops (OpenBLAS runs single-threaded inside each,
    /// to avoid oversubscription); at least 1.
    public let workers: Int
    /// The hand-written kernels: `avx512` on a CPU without it runs `avx2`.
    public let kernels: KernelSet
    /// Convolution paths (`abl bench` compares them).
    public let conv: ConvSettings

    public init(workers: Int = 1, kernels: KernelSet = .best, conv: ConvSettings = ConvSettings()) {
        _ = EngineSettings.blasSingleThreaded
        self.workers = max(1, workers)
        self.kernels = kernels == .avx512 && !CPUFeatures.avx512 ? .avx2 : kernels
        self.conv = conv
    }

    /// OpenBLAS made single-threaded once, before any network runs.
    private static let blasSingleThreaded: Void = BLAS.setThreads(1)

    /// Runs `body(worker, range)` for `workers` contiguous slices of 0..<total, concurrently.
    @inline(__always)
    public func parallelRanges(_ total: Int, _ body: (Int, Range<Int>) -> Void) {
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

/// The convolution paths: direct 3x3 kernels or im2col + sgemm, and their tile sizes.
public struct ConvSettings: Sendable, Equatable {
    /// Use the direct 3x3 kernels where they apply (false: im2col + sgemm everywhere).
    public var directKernels = true
    /// Let stride-2 layers take the direct forward too.
    public var directStride2 = true
    /// Images per pass of the direct kernels, padded side by side: the weight gradient's lane
    /// sums are paid once per chunk, and small planes fill whole register tiles across images.
    public var directChunk = 8
    /// Output columns per sgemm call of the im2col path: images are grouped until a call has
    /// about this many. 1 means one image per call, which measured fastest on the 2-core machine
    /// (docs/BENCHMARKS.md: grouping to 1024-4096 columns cost 5-15 % in copies and cache
    /// misses, more than it saved in OpenBLAS's packing).
    public var targetColumns = 1

    public init() {}
}
