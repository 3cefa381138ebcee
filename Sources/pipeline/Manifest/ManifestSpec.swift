import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// One problem found in a manifest: where (`dataset.test_ratio`) and which rule it breaks.
struct ManifestIssue: Equatable, Sendable, CustomStringConvertible {
    let path: String
    let rule: String
    var description: String { "\(path): \(rule)" }
}

/// A rule on a field's value: the text says what is required (`must be > 0 and < 1`).
struct Rule: Sendable {
    let text: String
    let check: @Sendable (JSON) -> Bool

    static func range(_ lo: Double?, _ hi: Double?, openLo: Bool = false, openHi: Bool = false) -> Rule {
        var parts: [String] = []
        if let lo { parts.append("\(openLo ? ">" : ">=") \(JSON.formatNumber(lo))") }
        if let hi { parts.append("\(openHi ? "<" : "<=") \(JSON.formatNumber(hi))") }
        return Rule(text: "must be " + parts.joined(separator: " and ")) { v in
            guard let d = v.doubleValue else { return false }
            if let lo, openLo ? !(d > lo) : !(d >= lo) { return false }
            if let hi, openHi ? !(d < hi) : !(d <= hi) { return false }
            return true
        }
    }

    static let nonEmpty = Rule(text: "must not be empty") { v in
        if let s = v.stringValue { return !s.isEmpty }
        if let a = v.arrayValue { return !a.isEmpty }
        return true
    }

    /// An array of strings without repeats.
    static let distinct = Rule(text: "must not repeat a name") { v in
        let names = (v.arrayValue ?? []).compactMap(\.stringValue)
        return Set(names).count == names.count
    }

    /// A path that is not an existing regular file (the run folder is a folder; it may not exist yet).
    static let notAFile = Rule(text: "must not be an existing file (the run folder is a folder)") { v in
        guard let s = v.stringValue else { return false }
        var d: ObjCBool = false
        return !FileManager.default.fileExists(atPath: s, isDirectory: &d) || d.boolValue
    }

    static let identifier = Rule(text: "must be a plain name of letters, digits, '.', '_' or '-' (no '/' or '..')") { v in
        guard let s = v.stringValue, let f = s.unicodeScalars.first, s != "." && s != ".." else { return false }
        let ok = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        return CharacterSet.alphanumerics.contains(f) && s.unicodeScalars.allSatisfy { ok.contains($0) && $0.isASCII }
    }

    /// A relative path that stays inside the folder it is relative to (no absolute path, no `..`).
    static let insideRunFolder = Rule(text: "must be a relative path that stays inside the run folder (no leading '/', no '..')") { v in
        guard let s = v.stringValue, !s.isEmpty, !s.hasPrefix("/") else { return false }
        return !s.split(separator: "/").contains("..")
    }

    static let fileExists = Rule(text: "file not found or not readable") { v in
        guard let s = v.stringValue else { return false }
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: s, isDirectory: &d) && !d.boolValue && FileManager.default.isReadableFile(atPath: s)
    }

    /// A PNG or JPEG file that decodes (checked only when the file exists).
    static let imageReadable = Rule(text: "is not a readable PNG or JPEG image") { v in
        guard let s = v.stringValue, FileManager.default.fileExists(atPath: s) else { return true }
        // only a regular file within the size limit is read (a FIFO or a device must not hang validation)
        guard let b = try? InputFile.read(s) else { return false }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return (try? PNGCodec.decode(b, channels: 3, path: s)) != nil }
        if b.starts(with: [0xFF, 0xD8]) { return (try? JPEGCodec.decode(b, channels: 3, path: s)) != nil }
        return false
    }

    static let folderExists = Rule(text: "folder not found") { v in
        guard let s = v.stringValue else { return false }
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: s, isDirectory: &d) && d.boolValue
    }

    static let eachFileExists = Rule(text: "every file must exist and be readable") { v in
        (v.arrayValue ?? []).allSatisfy { fileExists.check($0) }
    }
}

/// The JSON type a field takes.
indirect enum FieldType: Sendable {
    case string, integer, number, boolean, stringArray
    case choice([String])
    case object(Section)

    var schemaName: String {
        switch self {
        case .string, .choice: return "string"
        case .integer: return "integer"
        case .number: return "number"
        case .boolean: return "boolean"
        case .stringArray: return "array of strings"
        case .object: return "object"
        }
    }

    func accepts(_ v: JSON) -> Bool {
        switch (self, v) {
        case (.string, .string), (.number, .number), (.boolean, .bool), (.object, .object): return true
        case (.integer, .number): return v.intValue != nil
        case (.choice(let options), .string(let s)): return options.contains(s)
        case (.stringArray, .array(let a)): return a.allSatisfy { $0.stringValue != nil }
        default: return false
        }
    }
}

/// A field of a manifest section: its key, type, whether it is required or its default, its
/// documentation and its rules.
struct Field: Sendable {
    let key: String
    let type: FieldType
    let required: Bool
    let defaultValue: JSON?
    let doc: String
    let rules: [Rule]

    static func required(_ key: String, _ type: FieldType, _ doc: String, _ rules: [Rule] = []) -> Field {
        Field(key: key, type: type, required: true, defaultValue: nil, doc: doc, rules: rules)
    }

    /// An optional field; `default` nil means "absent unless given".
    static func optional(_ key: String, _ type: FieldType, default value: JSON?, _ doc: String, _ rules: [Rule] = []) -> Field {
        Field(key: key, type: type, required: false, defaultValue: value, doc: doc, rules: rules)
    }
}

/// A section (JSON object) of the manifest. `variants` adds fields chosen by a discriminator
/// key (for example `dataset.format`); `checks` are rules across fields, run on the resolved
/// object (defaults filled in) and returning issues relative to the section.
struct Section: Sendable {
    let doc: String
    let fields: [Field]
    var discriminator: String? = nil
    var variants: [(value: String, doc: String, fields: [Field])] = []
    var checks: [@Sendable (JSON) -> [ManifestIssue]] = []

    func fields(for object: [String: JSON]) -> [Field] {
        guard let d = discriminator, let v = object[d]?.stringValue,
              let variant = variants.first(where: { $0.value == v }) else { return fields }
        return fields + variant.fields
    }

    /// Validates `value` at `path`, returning every issue found and the object with defaults filled in.
    func resolve(_ value: JSON, path: String, issues: inout [ManifestIssue]) -> JSON {
        guard case .object(let obj) = value else {
            issues.append(ManifestIssue(path: path, rule: "must be an object, found \(value.typeName)"))
            return value
        }
        let prefix = path.isEmpty ? "" : path + "."
        let all = fields(for: obj)
        let known = Set(all.map(\.key)).union(["$schema", "$comment"])
        for key in obj.keys.sorted() where !known.contains(key) {
            let hint = closest(key, Array(known))
            issues.append(ManifestIssue(path: prefix + key, rule: "unknown key" + (hint.map { " (did you mean \"\($0)\"?)" } ?? "")))
        }
        var out = obj
        let before = issues.count
        for f in all {
            let p = prefix + f.key
            if obj[f.key] == .null {
                issues.append(ManifestIssue(path: p, rule: "must be \(f.type.article) \(f.type.schemaName), found null" + (f.required ? "" : " (leave the key out for the default)")))
                continue
            }
            guard let v = obj[f.key] else {
                if f.required {
                    issues.append(ManifestIssue(path: p, rule: "is required (\(f.type.schemaName): \(f.doc))"))
                } else if let d = f.defaultValue {
                    out[f.key] = f.type.isObject ? resolveDefaultObject(f, path: p, issues: &issues) : d
                }
                continue
            }
            guard f.type.accepts(v) else {
                if case .choice(let options) = f.type, v.stringValue != nil {
                    issues.append(ManifestIssue(path: p, rule: "must be one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")))
                } else {
                    issues.append(ManifestIssue(path: p, rule: "must be \(f.type.article) \(f.type.schemaName), found \(v.typeName)"))
                }
                continue
            }
            if case .object(let sub) = f.type {
                out[f.key] = sub.resolve(v, path: p, issues: &issues)
                continue
            }
            for r in f.rules where !r.check(v) {
                // a path or name is quoted, so the message says which file was meant
                issues.append(ManifestIssue(path: p, rule: r.text + (v.stringValue.map { " (\"\($0)\")" } ?? "")))
                break
            }
        }
        let resolved = JSON.object(out.filter { $0.key != "$schema" && $0.key != "$comment" })
        if issues.count == before {
            for check in checks {
                issues += check(resolved).map { ManifestIssue(path: prefix + $0.path, rule: $0.rule) }
            }
        }
        return resolved
    }

    private func resolveDefaultObject(_ f: Field, path: String, issues: inout [ManifestIssue]) -> JSON {
        guard case .object(let sub) = f.type else { return f.defaultValue ?? .null }
        return sub.resolve(f.defaultValue ?? .object([:]), path: path, issues: &issues)
    }

    /// A known key within edit distance 2 of `key`, for "did you mean" hints.
    private func closest(_ key: String, _ candidates: [String]) -> String? {
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var prev = row[0]
                row[0] = i
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    let cur = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                    prev = cur
                }
            }
            return row[b.count]
        }
        return candidates.filter { !$0.hasPrefix("$") }.map { ($0, distance(key, $0)) }
            .filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }
}

extension FieldType {
    /// A choice among an enum's cases, so the schema and the typed configuration share one list.
    static func choices<E: CaseIterable & RawRepresentable>(_: E.Type) -> FieldType where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }
    /// "a" or "an", for "must be an integer".
    var article: String { schemaName.first.map { "aeiou".contains($0) } == true ? "an" : "a" }
    var isObject: Bool { if case .object = self { return true } else { return false } }
}
