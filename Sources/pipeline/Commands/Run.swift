import ABLNet
import ArgumentParser
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
        do {
            let m = try Manifest.load(manifest)
            Engine.configure(workers: m.engineWorkers)
            let runner = Runner(manifest: m)
            try runner.run(target: stage, force: force)
            Console.error("run \(m.name): done in \(Progress.time(Date().timeIntervalSince(t0))), outputs in \(m.runFolder)")
        } catch let e as ManifestError {
            throw fail(e, code: 2)
        } catch {
            throw fail(error)
        }
    }
}
