import Foundation
import FuzzDriver
import FuzzSupport
import pipeline

/// A manifest as `abl run` reads it before running anything: the JSON parser, every section's
/// validation with its rules (files named in it are checked as `abl validate` checks them),
/// the typed configuration, and the stages laid out with their cache parameters.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    _ = ManifestCheck.problems(in: [UInt8](UnsafeBufferPointer(start: data, count: count)), file: "fuzz.json")
    return 0
}

/// The repository's own manifests (every attack, dataset format and stage section among them),
/// found from this file's place in the repository.
func repositoryManifests() throws -> [(name: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../manifests").standardized
    guard let files = FileManager.default.enumerator(atPath: root.path) else { throw CocoaError(.fileNoSuchFile) }
    return try files.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") && !$0.hasSuffix("schema.json") }.sorted().map {
        ($0.replacingOccurrences(of: "/", with: "-"), [UInt8](try Data(contentsOf: root.appendingPathComponent($0))))
    }
}

Seeds.handle(repositoryManifests)

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
