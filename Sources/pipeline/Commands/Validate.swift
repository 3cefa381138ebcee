import ArgumentParser
import CanonicalJSON

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a manifest and list every problem at once, each with its JSON path and rule.",
        discussion: "Exits 0 when the manifest is valid, 2 otherwise. Nothing is run or written.")

    @Argument(help: "The manifest (JSON).")
    var manifest: String

    @Flag(help: "Print the resolved manifest (every default filled in) when it is valid.")
    var resolved = false

    func run() throws {
        do {
            let m = try Manifest.load(manifest)
            if resolved { print(m.resolved.pretty, terminator: "") } else { print("\(manifest): valid") }
        } catch {
            throw fail(error, code: 2)
        }
    }
}
