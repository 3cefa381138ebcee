import Foundation

/// Ranks as threads of one process: every sum gathers each rank's buffer and adds them in rank
/// order, so every rank gets the same bits, and for two ranks the bits of `MPI_Allreduce` (a
/// sum of two values does not depend on their order). One process running a manifest's
/// `model.shards` this way computes what that many MPI ranks compute.
public final class ThreadRanks: @unchecked Sendable {
    public let size: Int
    private let cond = NSCondition()
    private var arrived = 0, generation = 0
    private var floats: [[Float]], doubles: [[Double]]
    private var bytes: [UInt8] = []

    public init(size: Int) {
        self.size = size
        floats = Array(repeating: [], count: size)
        doubles = Array(repeating: [], count: size)
    }

    /// Rank `rank`'s view, a `Collective`.
    public func rank(_ rank: Int) -> any Collective { Rank(self, rank) }

    /// Returns once every rank has arrived.
    func barrier() {
        cond.lock(); defer { cond.unlock() }
        let g = generation
        arrived += 1
        if arrived == size { arrived = 0; generation += 1; cond.broadcast(); return }
        while generation == g { cond.wait() }
    }

    func sum<T: FloatingPoint>(_ rank: Int, _ v: UnsafeMutableBufferPointer<T>, _ store: ReferenceWritableKeyPath<ThreadRanks, [[T]]>) {
        cond.lock(); self[keyPath: store][rank] = Array(v); cond.unlock()
        barrier()
        cond.lock()
        for i in v.indices {
            var s = self[keyPath: store][0][i]
            for r in 1..<size { s += self[keyPath: store][r][i] }
            v[i] = s
        }
        cond.unlock()
        barrier()
    }

    func broadcast(_ rank: Int, _ b: UnsafeMutableRawBufferPointer) {
        if rank == 0 { cond.lock(); bytes = Array(b); cond.unlock() }
        barrier()
        if rank != 0 { cond.lock(); bytes.withUnsafeBytes { b.copyMemory(from: $0) }; cond.unlock() }
        barrier()
    }

    final class Rank: Collective {
        let ranks: ThreadRanks
        let rank: Int
        var size: Int { ranks.size }
        init(_ ranks: ThreadRanks, _ rank: Int) { self.ranks = ranks; self.rank = rank }
        func sum(_ values: UnsafeMutableBufferPointer<Float>) { ranks.sum(rank, values, \.floats) }
        func sum(_ values: UnsafeMutableBufferPointer<Double>) { ranks.sum(rank, values, \.doubles) }
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer) { ranks.broadcast(rank, bytes) }
        func barrier() { ranks.barrier() }
        /// The other ranks may be waiting in a sum: like MPI_Abort, the whole process ends.
        func abort(code: Int32) -> Never { exit(code) }
        func finish() {}
        var traffic: CollectiveTraffic { CollectiveTraffic() }
    }

    /// Runs `body(rank)` on `size` threads at once (rank 0 on the calling thread); returns the
    /// results in rank order. A rank that throws while the others wait in a sum would leave
    /// them waiting: `onOtherRankError` gets the error of a rank other than 0 (and should end
    /// the process, as `abort` does); rank 0's error is thrown.
    public static func run<R>(_ size: Int, onOtherRankError: (@Sendable (Int, Error) -> Void)? = nil,
                              _ body: @escaping @Sendable (any Collective) throws -> R) throws -> [R] {
        let ranks = ThreadRanks(size: size)
        let results = UnsafeSendable(UnsafeMutablePointer<Result<R, Error>?>.allocate(capacity: size))
        results.value.initialize(repeating: nil, count: size)
        defer { results.value.deinitialize(count: size); results.value.deallocate() }
        let done = DispatchGroup()
        for r in 1..<max(size, 1) {
            done.enter()
            let t = Thread {
                let result = Result { try body(ranks.rank(r)) }
                if case .failure(let e) = result { onOtherRankError?(r, e) }
                results.value[r] = result
                done.leave()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        results.value[0] = Result { try body(ranks.rank(0)) }
        if case .failure(let e) = results.value[0]! { throw e }
        done.wait()
        return try (0..<size).map { try results.value[$0]!.get() }
    }
}
