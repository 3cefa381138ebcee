import CMPI
import Foundation

/// The processes that train one model together (data parallelism): each holds a replica of the
/// model and a shard of every batch, and they sum what must be global (gradients, BatchNorm's
/// batch statistics, per-sample losses) with these calls. Every rank makes the same calls in
/// the same order; a rank that stops calling stalls the others, so a failing rank ends the job
/// with `abort`.
public protocol Collective: AnyObject {
    /// This process's index, 0..<size; rank 0 writes the outputs.
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sums over every rank, in place: afterwards every rank holds the same values.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Rank 0's bytes into every rank's buffer.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer)
    /// Returns once every rank has called it.
    func barrier()
    /// Ends every rank of the job (after this rank printed why).
    func abort(code: Int32) -> Never
    /// Ends the collective's use (MPI_Finalize); called once, by every rank, at the end.
    func finish()
    /// Values moved by `sum` so far, for the measurements of docs/SCALING.md.
    var traffic: CollectiveTraffic { get }
}

/// How much the sums moved: calls, and bytes of one rank's buffers.
public struct CollectiveTraffic: Sendable, Equatable {
    public var calls = 0
    public var bytes = 0
    public init() {}
}

/// Errors of setting up the ranks.
public enum CollectiveError: Error, CustomStringConvertible {
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let r): return "launched by an MPI launcher, but MPI is unavailable: \(r)"
        }
    }
}

extension Collective {
    public var isRoot: Bool { rank == 0 }
    public var isDistributed: Bool { size > 1 }

    /// This rank's contiguous share of 0..<count; shares differ by at most one element.
    public func shard(_ count: Int) -> Range<Int> { count * rank / size ..< count * (rank + 1) / size }

    public func sum(_ values: inout [Float]) { values.withUnsafeMutableBufferPointer { sum($0) } }
    public func sum(_ values: inout [Double]) { values.withUnsafeMutableBufferPointer { sum($0) } }

    /// The full array of `count` values of which this rank computed `local`, its `shard(count)`:
    /// the other entries are zero before the sum, and x + 0 = x, so the gathered values are bit
    /// for bit those each rank computed.
    public func gather(_ local: [Float], count: Int) -> [Float] {
        guard isDistributed else { return local }
        var all = [Float](repeating: 0, count: count)
        let r = shard(count)
        all.replaceSubrange(r, with: local)
        sum(&all)
        return all
    }
}

/// One process: every sum is the identity.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer) {}
    public func barrier() {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finish() {}
    public var traffic: CollectiveTraffic { CollectiveTraffic() }
}

/// The ranks of an MPI job (`mpirun -np N`, `srun`), through Open MPI loaded at run time.
public final class MPIWorld: Collective {
    public let rank: Int
    public let size: Int
    public private(set) var traffic = CollectiveTraffic()

    /// Initialises MPI. `library` overrides the shared library's name or path (libmpi.so.40).
    public init(library: String? = nil) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard abl_mpi_init(library, &err, err.count) == 0 else {
            throw CollectiveError.unavailable(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        rank = Int(abl_mpi_rank())
        size = Int(abl_mpi_size())
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let p = values.baseAddress, !values.isEmpty else { return }
        abl_mpi_sum_float(p, values.count)
        traffic.calls += 1; traffic.bytes += values.count * 4
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let p = values.baseAddress, !values.isEmpty else { return }
        abl_mpi_sum_double(p, values.count)
        traffic.calls += 1; traffic.bytes += values.count * 8
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let p = bytes.baseAddress, !bytes.isEmpty else { return }
        abl_mpi_broadcast(p, bytes.count)
    }

    public func barrier() { abl_mpi_barrier() }

    public func abort(code: Int32) -> Never {
        abl_mpi_abort(code)
        exit(code)
    }

    public func finish() { abl_mpi_finalize() }
}

public enum Collectives {
    /// How many processes the launcher started (1 without a launcher), read from its environment.
    public static var launchedSize: Int { Int(abl_mpi_launched_size()) }

    /// The ranks this process was launched with: an `MPIWorld` when an MPI launcher started more
    /// than one process (Open MPI's mpirun, Slurm's srun), else a `SingleProcess`.
    /// `ABL_MPI_LIBRARY` names the Open MPI library when it is not `libmpi.so.40` on the loader's path.
    public static func fromEnvironment() throws -> any Collective {
        guard abl_mpi_launched_size() > 1 else { return SingleProcess() }
        let world = try MPIWorld(library: ProcessInfo.processInfo.environment["ABL_MPI_LIBRARY"])
        if world.size == 1 { world.finish(); return SingleProcess() }
        return world
    }

    /// The cores each rank on this machine should use: Slurm's CPUs per task when set, else
    /// this machine's cores divided by the ranks the launcher placed on it (Open MPI's local
    /// size), so that ranks sharing a machine do not oversubscribe it.
    public static func coresPerRank() -> Int {
        let env = ProcessInfo.processInfo.environment
        if let c = env["SLURM_CPUS_PER_TASK"].flatMap(Int.init), c > 0 { return c }
        let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"].lazy.compactMap { env[$0].flatMap(Int.init) }.first ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))
    }
}
