import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation

/// The `abl` command; `Sources/abl` calls `ABL.main()`.
public struct ABL: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "abl",
        abstract: "Forge poisoned image datasets and clean them with Anti-Backdoor Learning.",
        discussion: """
        A run is declared in a JSON manifest (docs/MANIFEST.md). Its stages pass files to each \
        other through the run folder, each cached by a content hash: `abl run` executes only what \
        is not fresh, `abl status` says which stage is fresh, stale (and why) or never run.
        """,
        version: "abl \(ToolVersion.description)",
        subcommands: [Run.self, Sanitize.self, Status.self, Validate.self, Report.self, Detect.self, Compare.self, Attacks.self, Schema.self, Bench.self, Probe.self])

    public init() {}

    public static func main() {
        // before anything else: OpenBLAS reads its core type only when it is loaded
        BLAS.reexecWithPreferredCoreIfNeeded()
        // only `run` splits its work over ranks; any other command would run N times over the same files
        if Collectives.launchedSize > 1, CommandLine.arguments.dropFirst().first != "run" {
            Console.error("error: only `abl run` works over several MPI ranks; start `abl \(CommandLine.arguments.dropFirst().first ?? "")` without mpirun or srun")
            Foundation.exit(2)
        }
        main(nil)
    }
}

/// Prints an error the way every subcommand reports one, and exits non-zero.
func fail(_ error: Error, code: Int32 = 1) -> ExitCode {
    Console.error("error: \(error)")
    return ExitCode(code)
}
