import ABLNet
import CanonicalJSON
import Foundation

/// The record (`stage.json`) a stage leaves beside its outputs: which parameters and inputs,
/// by content hash, produced which output files.
struct StageRecord: Codable, Equatable {
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
    /// The binary and the CPU that computed the outputs (`ProducedBy.current`), so that a figure
    /// read from a cached stage names what produced it; not part of the key. Absent in records
    /// written before the field existed.
    var producedBy: ProducedBy? = nil

    enum CodingKeys: String, CodingKey {
        case stage, parameters, inputs, outputs, started, ended
        case cacheKey = "cache_key", formatVersion = "format_version", volatile = "volatile_outputs", durationSeconds = "duration_s"
        case producedBy = "produced_by"
    }

    init(stage: String, cacheKey: String, parameters: JSON, inputs: [String: String], outputs: [String: String], formatVersion: Int,
         volatile: [String] = [], started: String, ended: String, durationSeconds: Double, producedBy: ProducedBy? = nil) {
        self.stage = stage; self.cacheKey = cacheKey; self.parameters = parameters; self.inputs = inputs; self.outputs = outputs
        self.formatVersion = formatVersion; self.volatile = volatile; self.started = started; self.ended = ended; self.durationSeconds = durationSeconds
        self.producedBy = producedBy
    }

    /// Records written before `volatile_outputs` and the times existed still read.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stage = try c.decode(String.self, forKey: .stage)
        cacheKey = try c.decode(String.self, forKey: .cacheKey)
        parameters = try c.decode(JSON.self, forKey: .parameters)
        inputs = try c.decode([String: String].self, forKey: .inputs)
        outputs = try c.decode([String: String].self, forKey: .outputs)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        volatile = try c.decodeIfPresent([String].self, forKey: .volatile) ?? []
        started = try c.decodeIfPresent(String.self, forKey: .started) ?? ""
        ended = try c.decodeIfPresent(String.self, forKey: .ended) ?? ""
        durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds) ?? 0
        producedBy = try c.decodeIfPresent(ProducedBy.self, forKey: .producedBy)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stage, forKey: .stage)
        try c.encode(cacheKey, forKey: .cacheKey)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(volatile, forKey: .volatile)
        try c.encode(started, forKey: .started)
        try c.encode(ended, forKey: .ended)
        try c.encode((durationSeconds * 1000).rounded() / 1000, forKey: .durationSeconds)
        try c.encodeIfPresent(producedBy, forKey: .producedBy)
    }

    /// The record as written to `stage.json`.
    var json: JSON { get throws { try OutputFile.tree(self) } }

    /// Reads a record; nil when absent or unreadable (a folder without a valid record is never
    /// trusted). The strict parser refuses what Foundation's would let through (duplicate keys).
    static func read(folder: String) -> StageRecord? {
        guard let data = try? InputFile.read(folder + "/" + fileName, limit: 64 << 20),
              (try? JSON.parse(bytes: data)) != nil else { return nil }
        return try? JSONDecoder().decode(StageRecord.self, from: Data(data))
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
