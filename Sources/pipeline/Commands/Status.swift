import ArgumentParser
import CanonicalJSON

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each stage of a manifest as fresh, stale (with the reason) or never run.")

    @Argument(help: "The manifest (JSON).")
    var manifest: String

    func run() throws {
        do {
            let m = try Manifest.load(manifest)
            for (stage, state) in try Runner(manifest: m).status() {
                print("\(stage.padding(toLength: 10, withPad: " ", startingAt: 0)) \(state)")
            }
        } catch let e as ManifestError {
            throw fail(e, code: 2)
        } catch {
            throw fail(error)
        }
    }
}
