import ABLNet
import Foundation
import PoisonForge
import Sanitizer

/// The self-contained HTML report: inline CSS and SVG, images as data URIs, no script, no
/// external reference of any kind.
enum HTMLReport {
    /// The most isolated samples the page shows; the export folder holds all of them.
    static let contactSheetLimit = 200

    /// What the page shows besides report.json.
    struct Inputs {
        let report: RunReport
        let losses: [Float]
        let poisoned: [Bool]?
        let labels: [Int]
        let isolated: [Int]
        let train: DatasetSplit            // poisoned training split
        let cleanTrain: DatasetSplit        // ingested training split (for the gallery)
        let classNames: [String]
        let strategy: IsolationStrategy
        let targetStatistic: TargetStatistic
    }

    static let fractions = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2]

    /// Isolation precision and recall for each fraction, from the saved losses (no retraining).
    static func precisionRecall(_ i: Inputs) -> [(fraction: Double, precision: Double, recall: Double)] {
        guard let p = i.poisoned else { return [] }
        return fractions.map { f in
            let sel = Isolation.select(losses: i.losses, labels: i.labels, ratio: f, strategy: i.strategy, targetStatistic: i.targetStatistic)
            let pr = Metrics.isolationPrecisionRecall(isolated: sel.indices, poisoned: p)
            return (f, pr.precision, pr.recall)
        }
    }

    static func png(_ pixels: [UInt8], _ w: Int, _ h: Int, _ c: Int) throws -> String {
        "data:image/png;base64," + Data(try PNGCodec.encode(pixels: pixels, width: w, height: h, channels: c)).base64EncodedString()
    }

    static func scaled(_ s: DatasetSplit, _ i: Int, _ k: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: s.height * k * s.width * k * s.channels)
        let img = s.image(i), b = img.startIndex
        for y in 0..<(s.height * k) { for x in 0..<(s.width * k) { for c in 0..<s.channels {
            out[(y * s.width * k + x) * s.channels + c] = img[b + ((y / k) * s.width + x / k) * s.channels + c]
        } } }
        return out
    }

    static func pct(_ v: Double?) -> String { Percent.text(v) }

    /// One metric of a stage's curve as chart points (x: the epoch).
    static func curve(_ r: RunReport, _ key: String, _ metric: KeyPath<CurvePoint, Double?>) -> [(x: Double, y: Double)] {
        (r.curves[key] ?? []).enumerated().compactMap { k, p in p[keyPath: metric].map { (Double(k + 1), $0) } }
    }

    /// The page: its head, then one section after another.
    static func render(_ i: Inputs) throws -> String {
        let r = i.report
        return page(r) + summary(r) + curves(r) + losses(i) + (try gallery(i)) + (try contactSheet(i)) + tables(r) + "</table></body></html>\n"
    }

    /// The document head with the style sheet, the title and the versions line.
    static func page(_ r: RunReport) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.esc(r.title))</title>
        <style>
        body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
        table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d5dbe4;padding:4px 9px;text-align:right}th{background:#f2f5f9}
        td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:14px}
        .chart{background:#fbfcfe;border:1px solid #e3e7ee}.chart .title{font-size:13px;font-weight:600;fill:#1d2330}
        .chart .tick{font-size:10px;fill:#555}.chart .grid{stroke:#e6e9ef}
        .sheet{display:flex;flex-wrap:wrap;gap:6px}.sheet figure{margin:0;width:92px;font-size:10px;text-align:center}
        .sheet img{image-rendering:pixelated;width:84px;height:84px;border:2px solid #ccc}.sheet .p img{border-color:#c0392b}
        .gallery img{image-rendering:pixelated;width:112px;height:112px;margin-right:8px;border:1px solid #ccc}
        .muted{color:#667}code{background:#f2f5f9;padding:0 3px}#settings code{word-break:break-all}
        </style></head><body>
        <h1>\(SVGChart.esc(r.title))</h1>
        <p class="muted">run <code>\(SVGChart.esc(r.run))</code> · abl \(SVGChart.esc(r.versions.abl)) (commit \(SVGChart.esc(r.versions.commit))) · CPU \(SVGChart.esc(r.versions.cpu)) · OpenBLAS core \(SVGChart.esc(r.versions.openblasCore))\((r.versions.ranks ?? 1) > 1 ? " · \(r.versions.ranks!) MPI ranks" : "")</p>
        """
    }

    /// The attack, the model table, the isolation line and the label counts.
    static func summary(_ r: RunReport) -> String {
        var h = ""
        if let a = r.attack {
            h += "<p>Attack <b>\(SVGChart.esc(a.name))</b> (\(SVGChart.esc(a.labelKind))-label, \(SVGChart.esc(a.mode)), target \(a.target) <i>\(SVGChart.esc(a.targetName))</i>): \(a.poisoned) of \(a.trainCount) training images poisoned.</p>"
        } else {
            h += "<p id=\"data\">" + SVGChart.esc(ReportMarkdown.givenDataSentence(r)) + "</p>"
        }
        h += "<h2>Models</h2><table id=\"models\"><tr><th>model</th><th>CA</th><th>CA-nt</th><th>ASR</th><th>RA</th><th>DER</th></tr>"
        for (label, m) in r.models.rows + [("LGA isolation model", r.models.isolationModel)] {
            h += "<tr><td>\(label)</td><td>\(pct(m.ca))</td><td>\(pct(m.caNT))</td><td>\(pct(m.asr))</td><td>\(pct(m.ra))</td><td>\(label == RunReport.Models.ablRow ? pct(m.der) : "")</td></tr>"
        }
        h += "</table>"
        let iso = r.isolation
        if let v = ReportMarkdown.verdictSentence(r) {
            // the Markdown bold marks become HTML
            let parts = SVGChart.esc(v).components(separatedBy: "**")
            h += "<p id=\"verdict\">" + parts.enumerated().map { $0.offset % 2 == 1 ? "<strong>\($0.element)</strong>" : $0.element }.joined() + "</p>"
        }
        h += "<p>Isolation: \(iso.count) samples (p = \(iso.ratio), \(SVGChart.esc(iso.strategy))\(iso.givenTarget.map { ", target \($0) given by the manifest" } ?? "")\(iso.inferredTarget.map { t in ", inferred target \(t)" + (iso.targetStatistic.map { " by " + SVGChart.esc($0) } ?? "") } ?? "")), precision \(pct(iso.precision)), recall \(pct(iso.recall)).</p>"
        if let line = ReportMarkdown.labelCountLine(r) { h += "<p>\(SVGChart.esc(line))</p>" }

        return h
    }

    /// CA and ASR per epoch of every training stage.
    static func curves(_ r: RunReport) -> String {
        var h = ""
        h += "<h2>Training curves</h2><div class=\"charts\">"
        let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        for (k, (key, label)) in [("isolate", "Isolation (LGA)"), ("unlearn", "ABL stage 2 (fine-tune, then unlearning)"), ("baseline", "No defense"), ("clean", "Clean model")].enumerated() {
            guard !(r.curves[key] ?? []).isEmpty else { continue }
            h += SVGChart.lines(id: "curve-\(key)", title: label + ": CA and ASR per epoch", xLabel: "epoch",
                                series: [.init(name: "CA", color: palette[0], points: curve(r, key, \.caValue)),
                                         .init(name: "ASR", color: palette[1], points: curve(r, key, \.asr), dashed: true)])
            _ = k
        }
        h += "</div>"

        return h
    }

    /// The loss histogram after isolation and precision and recall against the isolated fraction.
    static func losses(_ i: Inputs) -> String {
        var h = ""
        h += "<h2>Why ABL works: losses after isolation</h2><div class=\"charts\">"
        if let p = i.poisoned {
            let pl = i.losses.indices.filter { p[$0] }.map { Double(i.losses[$0]) }
            let cl = i.losses.indices.filter { !p[$0] }.map { Double(i.losses[$0]) }
            h += SVGChart.histogram(id: "loss-histogram", title: "Per-sample loss: poisoned vs clean", a: ("poisoned", "#d62728", pl), b: ("clean", "#1f77b4", cl))
            let pr = precisionRecall(i)
            h += SVGChart.lines(id: "precision-recall", title: "Isolation precision and recall vs isolated fraction", xLabel: "isolated fraction (%)",
                                series: [.init(name: "precision", color: "#2ca02c", points: pr.map { ($0.fraction * 100, $0.precision) }),
                                         .init(name: "recall", color: "#9467bd", points: pr.map { ($0.fraction * 100, $0.recall) }, dashed: true)])
        } else {
            h += "<p class=\"muted\">The dataset carries no ground-truth poison flags.</p>"
        }
        h += "</div>"

        return h
    }

    /// One poisoned training sample beside its clean original and their difference.
    static func gallery(_ i: Inputs) throws -> String {
        var h = ""
        if let p = i.poisoned, let first = p.firstIndex(of: true), let orig = i.train.poison?.originalIndices[first] {
            let k = max(1, 112 / max(i.train.width, 1))
            let clean = scaled(i.cleanTrain, orig, k), bad = scaled(i.train, first, k)
            let diff = zip(clean, bad).map { UInt8(min(255, abs(Int($0) - Int($1)) * 4)) }
            let (w, hh, c) = (i.train.width * k, i.train.height * k, i.train.channels)
            h += "<h2>Attack gallery</h2><div class=\"gallery\" id=\"gallery\"><img alt=\"clean\" src=\"\(try png(clean, w, hh, c))\"><img alt=\"poisoned\" src=\"\(try png(bad, w, hh, c))\"><img alt=\"difference x4\" src=\"\(try png(diff, w, hh, c))\"><p class=\"muted\">clean · poisoned · |difference| × 4 (training sample \(SVGChart.esc(i.train.ids[first])))</p></div>"
        }

        return h
    }

    /// The isolated samples, lowest loss first.
    static func contactSheet(_ i: Inputs) throws -> String {
        var h = ""
        h += "<h2>Isolated samples (contact sheet, lowest loss first)</h2><div class=\"sheet\" id=\"contact-sheet\">"
        for (rank, idx) in i.isolated.prefix(HTMLReport.contactSheetLimit).enumerated() {
            let isP = i.poisoned?[idx] ?? false
            let src = try png(Array(i.train.image(idx)), i.train.width, i.train.height, i.train.channels)
            let label = i.train.labels[idx]
            h += "<figure class=\"\(isP ? "p" : "c")\"><img alt=\"rank \(rank + 1)\" src=\"\(src)\"><figcaption>#\(rank + 1) \(SVGChart.esc(i.train.ids[idx]))<br>\(SVGChart.esc(i.classNames[label])) · \(String(format: "%.2g", i.losses[idx]))\(i.poisoned == nil ? "" : isP ? " · poisoned" : " · clean")</figcaption></figure>"
        }
        if i.isolated.count > HTMLReport.contactSheetLimit { h += "<p class=\"muted\">… and \(i.isolated.count - HTMLReport.contactSheetLimit) more in export/isolated/.</p>" }
        h += "</div>"

        return h
    }

    /// The stage times and every setting (the table is closed by `render`).
    static func tables(_ r: RunReport) -> String {
        var h = ""
        h += "<h2>Stages</h2><table id=\"stages\"><tr><th>stage</th><th>wall time</th><th>cache key</th></tr>"
        for (k, v) in r.stages.sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(SVGChart.esc(k))</td><td>\(String(format: "%.1f s", v.durationS))</td><td><code>\(SVGChart.esc(String(v.cacheKey.prefix(16))))</code></td></tr>"
        }
        h += "</table><h2>Settings</h2><table id=\"settings\"><tr><th>section</th><th>value</th></tr>"
        for (k, v) in (r.parameters.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            h += "<tr><td>\(SVGChart.esc(k))</td><td style=\"text-align:left\"><code>\(SVGChart.esc(v.canonical))</code></td></tr>"
        }
        return h
    }
}
