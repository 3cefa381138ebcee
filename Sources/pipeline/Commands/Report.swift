import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-render a run's report (JSON, Markdown, HTML) from its saved stage outputs, training nothing.",
        discussion: "The manifest is taken from the run's report record. Every stage the report reads must be fresh; otherwise `abl run` first.")

    @Argument(help: "The run folder (the manifest's output).")
    var runFolder: String

    func run() throws {
        do {
            let record = runFolder + "/report/" + StageRecord.fileName
            guard let r = StageRecord.read(folder: runFolder + "/report"), let resolved = r.parameters["manifest"] else {
                throw StageError.runFolder("\(record): no report record; run the manifest with `abl run` first")
            }
            let m = try Manifest(file: record, resolved: resolved.objectValue.map { o -> JSON in
                var o = o
                o["output"] = .string(runFolder) // the folder may have moved
                return .object(o)
            } ?? resolved)
            let runner = Runner(manifest: m)
            let report = runner.stages.first { $0.name == "report" }!
            let states = Dictionary(uniqueKeysWithValues: try runner.status().map { ($0.stage, $0.state) })
            for u in report.upstream where !(states[u]?.isFresh ?? false) {
                throw StageError.failed(stage: "report", reason: "stage \(u) is \(states[u]?.description ?? "missing"); run `abl run` to bring it up to date")
            }
            try runner.run(target: "report", force: true)
            Console.error("report: \(runFolder)/report/report.html")
        } catch {
            throw fail(error)
        }
    }
}
