import ABLNet
import CanonicalJSON
import Foundation

/// Errors of loading a manifest: every issue at once.
struct ManifestError: Error, CustomStringConvertible {
    let file: String
    let issues: [ManifestIssue]
    var description: String {
        "\(file): \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// A validated manifest: the resolved JSON (every default filled in; stages key their cache on
/// its sections) and the same as typed values (what stages read).
struct Manifest {
    /// The file it was read from.
    let file: String
    /// The whole manifest, defaults filled in, `$schema` dropped.
    let resolved: JSON
    /// The resolved manifest as typed values.
    let config: RunConfig

    /// A resolved manifest as it is: decoding it fails only when the schema and `RunConfig` disagree.
    init(file: String, resolved: JSON) throws {
        self.file = file
        self.resolved = resolved
        do { config = try RunConfig.decode(resolved) } catch let issue as ManifestIssue {
            throw ManifestError(file: file, issues: [issue])
        }
    }

    var name: String { config.name }
    var seed: UInt64 { config.seed }
    /// The engine's worker count: `model.threads`, or every core of this machine (shared among
    /// the ranks on it when several run together).
    var engineWorkers: Int {
        if let t = config.model.threads { return t }
        if ranks > 1 { return Collectives.coresPerRank() }
        // shards run as threads of this process share its cores
        return max(1, ProcessInfo.processInfo.activeProcessorCount / (config.model.shards ?? 1))
    }
    /// How this run's networks run: `engineWorkers` workers and the widest kernels of this CPU.
    var engine: EngineSettings { EngineSettings(workers: engineWorkers) }
    /// Shards this process runs as threads (`model.shards` on one process), else 1.
    var threadShards: Int { ranks == 1 ? config.model.shards ?? 1 : 1 }
    /// How many ranks run it together (`mpirun -np N`); set by the command from the launch, not
    /// read from the file.
    var ranks = 1
    /// The run folder.
    var runFolder: String { config.output ?? "runs/\(name)" }
    /// A section of the resolved manifest (an empty object when absent).
    func section(_ key: String) -> JSON { resolved[key] ?? .object([:]) }

    /// Reads, validates and resolves a manifest file; throws every problem found at once.
    static func load(_ path: String) throws -> Manifest {
        let data: [UInt8]
        do { data = try InputFile.read(path, limit: 64 << 20) } catch {
            throw ManifestError(file: path, issues: [ManifestIssue(path: "(file)", rule: FileManager.default.fileExists(atPath: path) ? "cannot read the file: \(error)" : "no such file")])
        }
        let json: JSON
        do { json = try JSON.parse(bytes: data) } catch {
            throw ManifestError(file: path, issues: [ManifestIssue(path: "(syntax)", rule: "invalid JSON: \(error)")])
        }
        return try resolve(json, file: path)
    }

    /// Validates and resolves an already parsed manifest.
    static func resolve(_ json: JSON, file: String) throws -> Manifest {
        var issues: [ManifestIssue] = []
        let resolved = ManifestSchema.root.resolve(json, path: "", issues: &issues)
        guard issues.isEmpty else { throw ManifestError(file: file, issues: issues) }
        return try Manifest(file: file, resolved: resolved)
    }
}
