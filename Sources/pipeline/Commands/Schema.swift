import ArgumentParser
import CanonicalJSON

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the manifest's JSON Schema (or, with --markdown, its reference tables).",
        discussion: "Both are generated from the same specification that `abl validate` enforces.")

    @Flag(help: "Print the Markdown reference used in docs/MANIFEST.md instead.")
    var markdown = false

    func run() throws {
        print(markdown ? SchemaExport.markdownReference() : SchemaExport.jsonSchema().pretty, terminator: "")
    }
}
