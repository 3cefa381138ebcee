import ABLNet
import CanonicalJSON
import Foundation

/// Reading and writing the typed files stages pass on: Foundation's encoder and decoder, with
/// the text put in the canonical pretty form (sorted keys, normalised numbers), so that a value
/// that means the same is written as the same bytes and downstream digests stay stable.
enum OutputFile {
    /// The value as a JSON tree (encoded by `JSONEncoder`).
    static func tree<T: Encodable>(_ value: T) throws -> JSON {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try JSON.parse(bytes: [UInt8](try encoder.encode(value)))
    }

    /// Writes the value as pretty, canonical JSON.
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        try AtomicFile.write(Data(try tree(value).pretty.utf8), to: path)
    }

    /// Reads a file written by `write`, naming the file when it is missing or of another shape.
    static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        guard let bytes = try? InputFile.read(path) else { throw OutputFileError(path: path, reason: "missing or not a regular file") }
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw OutputFileError(path: path, reason: "not a valid \(T.self): \(error)")
        }
    }
}

struct OutputFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): \(reason)" }
}

/// A JSON tree inside a typed file (the resolved manifest, an attack's parameters and details).
extension JSON: Codable {
    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let o = try? decoder.container(keyedBy: Key.self) {
            var out: [String: JSON] = [:]
            for k in o.allKeys { out[k.stringValue] = try o.decode(JSON.self, forKey: k) }
            self = .object(out)
        } else if var a = try? decoder.unkeyedContainer() {
            var out: [JSON] = []
            while !a.isAtEnd { out.append(try a.decode(JSON.self)) }
            self = .array(out)
        } else {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .string(try c.decode(String.self)) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(v) }
        case .object(let o):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in o { try c.encode(v, forKey: Key(stringValue: k)) }
        }
    }
}
