import ABLNet
import CanonicalJSON
import Foundation

/// What a stage gets when it runs.
struct StageContext {
    let manifest: Manifest
    /// The run folder.
    let runFolder: String
    /// The temporary folder the stage writes every output into; renamed into place on success.
    let workFolder: String
    /// Suppress progress output (tests, and every rank but rank 0).
    let quiet: Bool
    /// The ranks that train together (`mpirun -np N abl run`); one process otherwise.
    var group: any Collective = SingleProcess()

    /// The (fresh) folder of an upstream stage.
    func upstreamFolder(_ stage: String) -> String { runFolder + "/" + stage }

    func progress(_ label: String, total: Int) -> Progress { Progress(label, total: total, quiet: quiet) }

    func log(_ s: String) { if !quiet { Console.error("  " + s) } }
}

/// A stage of the pipeline, declared by what it reads (upstream stages and outside files),
/// what it is told (its parameters) and what it writes (its outputs), like a DVC stage.
protocol Stage {
    /// Folder name and identifier (`ingest`, `poison`, ...).
    var name: String { get }
    /// Stages whose outputs this stage reads.
    var upstream: [String] { get }
    /// Bumped whenever the stage's output format or algorithm changes: old outputs become stale.
    var formatVersion: Int { get }
    /// The parameters that determine the outputs, from the resolved manifest.
    func parameters(_ manifest: Manifest) -> JSON
    /// Files or folders outside the run whose contents the stage reads.
    func externalInputs(_ manifest: Manifest) -> [String]
    /// Relative paths the stage must produce.
    func declaredOutputs(_ manifest: Manifest) -> [String]
    /// Outputs whose bytes vary between identical runs (wall times), or that no downstream stage
    /// reads (the poison stage's gallery). They are digest-checked like any output but left out
    /// of the digest downstream stages key on, so a rerun that reproduces the results bit for
    /// bit leaves them fresh.
    func volatileOutputs(_ manifest: Manifest) -> [String]
    /// Does the work, writing into `context.workFolder`.
    func run(_ context: StageContext) throws
    /// Whether every rank runs this stage (its training and evaluation are split over the
    /// ranks); otherwise rank 0 runs it alone while the others wait.
    var runsOnEveryRank: Bool { get }
}

/// Errors of running stages.
extension Stage {
    func volatileOutputs(_ manifest: Manifest) -> [String] { [] }
    var runsOnEveryRank: Bool { false }
}

enum StageError: Error, CustomStringConvertible {
    case failed(stage: String, reason: String)
    case missingOutput(stage: String, file: String)
    case unknownStage(String, known: [String])
    case runFolder(String)
    case locked(String)
    case noSpace(stage: String, file: String)

    var description: String {
        switch self {
        case .failed(let s, let r): return "stage \(s) failed: \(r)"
        case .missingOutput(let s, let f): return "stage \(s) did not produce its declared output \(f)"
        case .unknownStage(let s, let known): return "unknown stage \"\(s)\" (this manifest has: \(known.joined(separator: ", ")))"
        case .runFolder(let r): return "run folder: \(r)"
        case .locked(let f): return "\(f): another abl process is using this run folder"
        case .noSpace(let s, let f): return "no space left on device while writing \(f) of stage \(s)"
        }
    }
}
