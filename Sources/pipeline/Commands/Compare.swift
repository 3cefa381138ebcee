import ABLNet
import ArgumentParser
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

    static func pct(_ v: JSON?) -> String { v?.doubleValue.map { String(format: "%.2f", $0 * 100) } ?? "–" }

    /// The comparison table for the given reports (run name, report JSON).
    static func table(_ reports: [(String, JSON)]) -> String {
        var s = "| run | attack | isolation | unlearning | no-def CA | no-def ASR | ABL CA | ABL ASR | ABL RA | clean CA | DER | precision | recall |\n"
        s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for (name, r) in reports {
            let m = r["models"] ?? .null, i = r["isolation"] ?? .null
            let iso = "\(i["strategy"]?.stringValue ?? "?"), LGA \(i["granularity"]?.stringValue ?? "?"), p \(i["ratio"]?.doubleValue.map { JSON.formatNumber($0) } ?? "?")"
            s += "| \(name) | \(r["attack"]?["name"]?.stringValue ?? "?") | \(iso) | \(r["unlearning"]?["mode"]?.stringValue ?? "?") "
            s += "| \(pct(m["no_defense"]?["ca"])) | \(pct(m["no_defense"]?["asr"])) | \(pct(m["abl"]?["ca"])) | \(pct(m["abl"]?["asr"])) | \(pct(m["abl"]?["ra"])) "
            s += "| \(pct(m["clean"]?["ca"])) | \(pct(m["abl"]?["der"])) | \(pct(i["precision"])) | \(pct(i["recall"])) |\n"
        }
        return s + "\nAll figures in %. CA: clean accuracy; ASR: attack success rate on non-target triggered test images; RA: robust accuracy; DER: defense effectiveness rate; precision and recall of the isolated set.\n"
    }

    func run() throws {
        do {
            var reports: [(String, JSON)] = []
            for r in runs {
                let path = r + "/report/report.json"
                guard let d = try? InputFile.read(path, limit: 256 << 20) else { throw StageError.runFolder("\(path): no report (run the manifest first)") }
                reports.append(((r as NSString).lastPathComponent, try JSON.parse(bytes: d)))
            }
            let t = Compare.table(reports)
            print(t, terminator: "")
            if let o = output { try AtomicFile.write(Data(t.utf8), to: o) }
        } catch {
            throw fail(error)
        }
    }
}
