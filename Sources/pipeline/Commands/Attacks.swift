import ABLNet
import ArgumentParser
import CanonicalJSON

/// `abl attacks`: every attack with its parameters and defaults, from the manifest specification.
struct Attacks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every attack with its parameters and defaults.",
        discussion: "Generated from the same specification that `abl validate` enforces; `attack.kind` selects one.")

    @Flag(help: "Print one JSON object per attack and line instead.")
    var json = false

    func run() throws {
        print(Attacks.listing(json: json), terminator: "")
    }

    static func listing(json: Bool) -> String {
        let section = ManifestSchema.attack
        var out = ""
        for v in section.variants {
            let fields = section.fields.filter { $0.key != "kind" } + v.fields
            if json {
                var params: [String: JSON] = [:]
                for f in fields {
                    params[f.key] = .object(["type": .string(f.type.schemaName), "default": f.defaultValue ?? .null, "doc": .string(f.doc)])
                }
                let o: JSON = .object(["kind": .string(v.value), "description": .string(v.doc),
                                       "needs_surrogate": .bool(AttackCatalog.descriptor(v.value)?.needsSurrogate == true),
                                       "label": .string(AttackCatalog.descriptor(v.value)?.labelKind.rawValue ?? "dirty"), "parameters": .object(params)])
                out += o.canonical + "\n"
                continue
            }
            out += "\(v.value)\(AttackCatalog.descriptor(v.value)?.needsSurrogate == true ? "  [needs the surrogate stage]" : "")\n  \(v.doc)\n"
            for f in fields {
                var def = "required"
                if let d = f.defaultValue { def = "default " + (d.stringValue.map { "\"\($0)\"" } ?? d.canonical) } else if !f.required { def = "optional" }
                var choices = ""
                if case .choice(let o) = f.type { choices = " (" + o.joined(separator: " | ") + ")" }
                out += "    \(f.key.padding(toLength: 18, withPad: " ", startingAt: 0)) \(f.type.schemaName)\(choices), \(def): \(f.doc)\n"
            }
            out += "\n"
        }
        return out
    }
}
