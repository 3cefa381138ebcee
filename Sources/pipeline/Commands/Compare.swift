import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a side-by-side Markdown table of several runs' reports (for example one per attack).")

    @Argument(help: "Run folders (each with report/report.json).")
    var runs: [String]

    @Option(help: "Also write the table to this Markdown file.")
    var output: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run folder") }
    }

    static func pct(_ v: Double?) -> String { Percent.text(v, unit: false) }

    /// The comparison table for the given reports (run name, report).
    static func table(_ reports: [(String, RunReport)]) -> String {
        var s = "| run | attack | isolation | unlearning | no-def CA | no-def ASR | ABL CA | ABL ASR | ABL RA | clean CA | DER | precision | recall |\n"
        s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for (name, r) in reports {
            let m = r.models, i = r.isolation
            let iso = "\(i.strategy), LGA \(i.granularity), p \(JSON.formatNumber(i.ratio))"
            s += "| \(name) | \(r.attack?.name ?? "data as given") | \(iso) | \(r.unlearning.mode) "
            s += "| \(pct(m.noDefense?.ca)) | \(pct(m.noDefense?.asr)) | \(pct(m.abl.ca)) | \(pct(m.abl.asr)) | \(pct(m.abl.ra)) "
            s += "| \(pct(m.clean?.ca)) | \(pct(m.abl.der)) | \(pct(i.precision)) | \(pct(i.recall)) |\n"
        }
        return s + "\nAll figures in %. CA: clean accuracy; ASR: attack success rate on non-target triggered test images; RA: robust accuracy; DER: defense effectiveness rate; precision and recall of the isolated set; – where unknown (no triggered test set, no ground truth, or a model not trained).\n"
    }

    func run() throws {
        do {
            var reports: [(String, RunReport)] = []
            for r in runs {
                let path = r + "/report/report.json"
                guard FileManager.default.fileExists(atPath: path) else { throw StageError.runFolder("\(path): no report (run the manifest first)") }
                reports.append(((r as NSString).lastPathComponent, try OutputFile.read(RunReport.self, from: path)))
            }
            let t = Compare.table(reports)
            print(t, terminator: "")
            if let o = output { try AtomicFile.write(Data(t.utf8), to: o) }
        } catch {
            throw fail(error)
        }
    }
}
