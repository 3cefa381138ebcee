import ABLNet
import Foundation

/// Errors of loading a manifest: every issue at once.
struct ManifestError: Error, CustomStringConvertible {
    let file: String
    let issues: [ManifestIssue]
    var description: String {
        "\(file): \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// A validated manifest with every default filled in (`resolved`).
struct Manifest {
    /// The file it was read from.
    let file: String
    /// The whole manifest, defaults filled in, `$schema` dropped.
    let resolved: JSON

    var name: String { resolved["name"]!.stringValue! }
    var seed: UInt64 { UInt64(resolved["seed"]!.intValue!) }
    /// The run folder.
    var runFolder: String { resolved["output"]?.stringValue ?? "runs/\(name)" }
    /// A section of the resolved manifest (an empty object when absent).
    func section(_ key: String) -> JSON { resolved[key] ?? .object([:]) }

    /// Reads, validates and resolves a manifest file; throws every problem found at once.
    static func load(_ path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ManifestError(file: path, issues: [ManifestIssue(path: "(file)", rule: FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")])
        }
        let json: JSON
        do { json = try JSON.parse(bytes: [UInt8](data)) } catch {
            throw ManifestError(file: path, issues: [ManifestIssue(path: "(syntax)", rule: "invalid JSON: \(error)")])
        }
        return try resolve(json, file: path)
    }

    /// Validates and resolves an already parsed manifest.
    static func resolve(_ json: JSON, file: String) throws -> Manifest {
        var issues: [ManifestIssue] = []
        let resolved = ManifestSchema.root.resolve(json, path: "", issues: &issues)
        guard issues.isEmpty else { throw ManifestError(file: file, issues: issues) }
        return Manifest(file: file, resolved: resolved)
    }
}
