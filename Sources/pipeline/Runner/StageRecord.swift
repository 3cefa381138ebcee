import ABLNet
import Foundation

/// The record (`stage.json`) a stage leaves beside its outputs: which parameters and inputs,
/// by content hash, produced which output files.
struct StageRecord: Equatable {
    static let fileName = "stage.json"

    var stage: String
    var cacheKey: String
    var parameters: JSON
    /// `upstream:<stage>` or `file:<path>` -> SHA-256.
    var inputs: [String: String]
    /// Relative output path -> SHA-256.
    var outputs: [String: String]
    var formatVersion: Int
    /// Outputs left out of `outputDigest` (wall times and the like).
    var volatile: [String] = []
    var started: String
    var ended: String
    var durationSeconds: Double

    var json: JSON {
        .object([
            "stage": .string(stage),
            "cache_key": .string(cacheKey),
            "parameters": parameters,
            "inputs": .object(inputs.mapValues(JSON.string)),
            "outputs": .object(outputs.mapValues(JSON.string)),
            "format_version": .number(Double(formatVersion)),
            "volatile_outputs": .array(volatile.map(JSON.string)),
            "started": .string(started),
            "ended": .string(ended),
            "duration_s": .number((durationSeconds * 1000).rounded() / 1000),
        ])
    }

    /// Reads a record; nil when absent or unreadable (a folder without a valid record is never trusted).
    static func read(folder: String) -> StageRecord? {
        guard let data = try? InputFile.read(folder + "/" + fileName, limit: 64 << 20),
              let j = try? JSON.parse(bytes: data),
              let stage = j["stage"]?.stringValue, let key = j["cache_key"]?.stringValue, let params = j["parameters"],
              let inputs = j["inputs"]?.objectValue, let outputs = j["outputs"]?.objectValue,
              let version = j["format_version"]?.intValue else { return nil }
        return StageRecord(stage: stage, cacheKey: key, parameters: params,
                           inputs: inputs.compactMapValues(\.stringValue), outputs: outputs.compactMapValues(\.stringValue),
                           formatVersion: version, volatile: j["volatile_outputs"]?.arrayValue?.compactMap(\.stringValue) ?? [], started: j["started"]?.stringValue ?? "", ended: j["ended"]?.stringValue ?? "",
                           durationSeconds: j["duration_s"]?.doubleValue ?? 0)
    }

    /// The cache key: SHA-256 over the stage name, its canonical parameters, the digests of its
    /// inputs and its format version.
    static func cacheKey(stage: String, parameters: JSON, inputs: [String: String], formatVersion: Int) throws -> String {
        let doc = JSON.object([
            "stage": .string(stage),
            "parameters": parameters,
            "inputs": .object(inputs.mapValues(JSON.string)),
            "format_version": .number(Double(formatVersion)),
        ])
        return try SHA256.hex(of: doc.canonical)
    }

    /// The digest that downstream stages see for this stage: over its outputs map, volatile
    /// outputs left out.
    var outputDigest: String {
        get throws {
            let kept = outputs.filter { !volatile.contains($0.key) }
            return try SHA256.hex(of: JSON.object(kept.mapValues(JSON.string)).canonical)
        }
    }
}
