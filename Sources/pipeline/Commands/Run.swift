import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every stage of a manifest that is not fresh, upstream first.",
        discussion: "With --stage, only that stage and any stale stage it needs. Each stage prints one summary line (ran or cached, time).")

    @Argument(help: "The manifest (JSON).")
    var manifest: String

    @Option(help: "Run only this stage (after any stale upstream stage).")
    var stage: String?

    @Flag(help: "Re-execute even a fresh stage (the --stage one, or every stage without --stage).")
    var force = false

    func run() throws {
        let t0 = Date()
        let group: any Collective
        do { group = try Collectives.fromEnvironment() } catch { throw fail(error) }
        do {
            var m = try Manifest.load(manifest)
            m.ranks = group.size
            if let shards = m.config.model.shards, group.isDistributed, shards != group.size {
                throw StageError.failed(stage: "run", reason: "model.shards is \(shards): launch \(shards) ranks (mpirun -np \(shards)), or one process, not \(group.size)")
            }
            if group.isRoot && group.isDistributed {
                Console.error("\(group.size) ranks (MPI), \(m.engineWorkers) engine worker\(m.engineWorkers == 1 ? "" : "s") each")
            }
            let runner = Runner(manifest: m, quiet: !group.isRoot, group: group)
            try runner.run(target: stage, force: force)
            if group.isRoot {
                Console.error("run \(m.name): done in \(Progress.time(Date().timeIntervalSince(t0))), outputs in \(m.runFolder)")
                if group.isDistributed {
                    let t = group.traffic
                    Console.error(String(format: "rank 0 summed %d buffers, %.1f MB in all", t.calls, Double(t.bytes) / 1e6))
                }
            }
            group.finish()
        } catch {
            guard group.isDistributed else { throw fail(error, code: error is ManifestError ? 2 : 1) }
            // the other ranks are waiting in a collective call: end them all, after saying why
            Console.error("error (rank \(group.rank) of \(group.size)): \(error)")
            group.abort(code: error is ManifestError ? 2 : 1)
        }
    }
}
