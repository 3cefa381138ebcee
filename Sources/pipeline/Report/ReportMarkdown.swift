import ABLNet
import Foundation
import Sanitizer

/// `report.md`, the log's one-line summary and the label-count sentence, from a `RunReport`.
enum ReportMarkdown {
    static func pct(_ v: Double?) -> String { Percent.text(v) }

    static func oneLine(_ r: RunReport) -> String {
        var parts: [String] = []
        if let d = r.detection { parts.append(d.backdoor == true ? "backdoor found, target \(d.target.map(String.init) ?? "?")" : d.backdoor == false ? "no backdoor found" : "no verdict") }
        if let nd = r.models.noDefense { parts.append("no defense CA \(pct(nd.ca))" + (nd.asr.map { " ASR \(pct($0))" } ?? "")) }
        parts.append("ABL CA \(pct(r.models.abl.ca))" + (r.models.abl.asr.map { " ASR \(pct($0))" } ?? ""))
        parts.append("\(r.isolation.count) isolated" + (r.isolation.precision.map { ", precision \(pct($0))" } ?? ""))
        return parts.joined(separator: "; ")
    }

    /// One plain-text sentence on the label counts (the second, independent hint of `LabelBalance`:
    /// dirty-label poisoning inflates its target label), for the Markdown and the HTML report.
    static func labelCountLine(_ r: RunReport) -> String? {
        guard let b = r.labelBalance, b.largest < b.counts.count else { return nil }
        var s = String(format: "Label counts: the largest label, %d (%@), holds %d training samples, %.2f times the median label's %.0f", b.largest,
                       b.largestName, b.counts[b.largest], b.excess, b.median)
        if b.flagged {
            s += "; dirty-label poisoning inflates its target this way"
            if let t = r.isolation.inferredTarget, t != b.largest {
                s += String(format: ". It is not the inferred target (%d): if the source was balanced, review label %d as the possible target", t, b.largest)
            }
        }
        return s + "."
    }

    /// The isolation sentence's target part and, for an inferred target that barely beats the
    /// runner-up, the ratio of their statistics.
    static func targetClause(_ i: IsolationRecord) -> (text: String, closeCall: Double?) {
        if let t = i.givenTarget { return (", target \(t) given by the manifest", nil) }
        guard let t = i.inferredTarget else { return ("", nil) }
        if i.targetFromDetection == true { return (", target \(t) named by the detection verdict", nil) }
        var s = ", inferred target \(t)"
        var closeCall: Double? = nil
        if let st = i.targetStatistic, let statistic = TargetStatistic(rawValue: st), let scores = i.scores(statistic) {
            // the statistic of the target and of the runner-up, so a reader sees how clear the choice was
            let ranked = scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            s += String(format: " by %@ (%.2f", st, scores[String(t)] ?? 0)
            if let next = ranked.first(where: { $0.key != String(t) }) {
                s += String(format: "; next label %@, %.2f", next.key, next.value)
                closeCall = IsolateStage.closeCallMargin(scores[String(t)] ?? 0, next.value)
            }
            s += ")"
        }
        return (s, closeCall)
    }

    /// The verdict in plain words, for the top of report.md and report.html (nil without one).
    static func verdictSentence(_ r: RunReport) -> String? {
        guard let d = r.detection else { return nil }
        func name(_ c: Int) -> String { String(c) }
        func share(_ e: DetectionRecord.Row) -> String { e.sentence }
        let p = d.familyPValue.map { DetectionRecord.pText($0) + " over \(d.labels.count) label and signal pairs" } ?? ""
        switch (d.backdoor, d.target, d.strongest) {
        case (true?, let t?, let e?):
            return "**Verdict: backdoor found**, target label \(name(t)): \(share(e)) (\(p)). Isolation: \(d.action)."
        case (false?, _, let e?):
            return "**Verdict: no backdoor found.** No label's training samples differ from its test samples, by the isolation model's loss or features, more than chance allows; the largest excess is label \(name(e.label)), where \(share(e)) (\(p); a backdoor needs p <= \(String(format: "%.2g", d.falsePositiveRate)) and an excess of \(String(format: "%.0f", d.minExcess * 100)) points). Isolation: \(d.action)."
        default:
            return "**No verdict:** the test set has too few samples per label to judge the training set against. Isolation: \(d.action)."
        }
    }

    /// The Markdown summary: the verdict, the model table, isolation, attack and stage times.
    static func render(_ r: RunReport) -> String {
        var s = "# \(r.title)\n\n"
        if let v = verdictSentence(r) { s += v + "\n\n" }
        if let a = r.attack {
            s += "Attack: **\(a.name)** (\(a.labelKind)-label, \(a.mode), target \(a.target) `\(a.targetName)`), "
            s += "\(a.poisoned) of \(a.trainCount) training images poisoned (rate \(a.rate) of the \(a.rateCounts)).\n\n"
            if let d = a.details, !d.isEmpty {
                s += "Attack details: " + d.keys.sorted().map { "\($0) \(d[$0]?.canonical ?? "")" }.joined(separator: "; ") + ".\n\n"
            }
        } else {
            s += givenDataSentence(r) + "\n\n"
        }
        s += "| model | CA | CA-nt | ASR | RA | DER |\n|---|---|---|---|---|---|\n"
        for (label, m) in r.models.rows {
            s += "| \(label) | \(pct(m.ca)) | \(pct(m.caNT)) | \(pct(m.asr)) | \(pct(m.ra)) | \(label == RunReport.Models.ablRow ? pct(m.der) : "") |\n"
        }
        s += "\n" + isolationSentence(r.isolation)
        if let line = labelCountLine(r) { s += line + "\n" }
        s += r.isolation.count == 0 ? "Unlearning: none, nothing was isolated (the model was fine-tuned on the whole training set)"
                                    : "Unlearning mode: \(r.unlearning.mode)"
        if let st = r.unlearning.ascentStopped { s += ", ascent stopped by the rule at epoch \(st.epoch) step \(st.step)" }
        s += ".\n\n| stage | wall time |\n|---|---|\n"
        for (k, v) in r.stages.sorted(by: { $0.key < $1.key }) {
            s += "| \(k) | \(String(format: "%.1f s", v.durationS)) |\n"
        }
        let v = r.versions
        s += "\nabl \(v.abl) (commit \(v.commit)\(v.localChanges ? " + local changes" : "")) on \(v.cpu)"
        if !v.cpuFeatures.isEmpty { s += " (" + v.cpuFeatures.joined(separator: " ") + ")" }
        if let ranks = v.ranks, ranks > 1 { s += ", \(ranks) MPI ranks" }
        s += ".\n"
        return s
    }

    /// For data the user brings: what was known, and so which figures the report can give.
    static func givenDataSentence(_ r: RunReport) -> String {
        var s = "Data: the training set as given (no attack applied by this run). "
        s += r.isolation.precision != nil ? "Which samples are poisoned was supplied (dataset.poison_indicator), so the isolated set's precision and recall are measured. "
                                          : "Which samples are poisoned is unknown, so the isolated set has no precision or recall. "
        if let e = r.evaluation {
            let how = e.attack.map { "the \(e.attackName ?? $0) trigger stamped on the test set" } ?? "triggered images supplied in \(e.images ?? "a file")"
            s += "ASR is measured on \(e.count) triggered test images (\(how), target \(e.target) `\(e.targetName)`)"
            s += e.trueLabelsKnown ? "." : "; their true labels are unknown, so there is no RA."
        } else {
            s += "No triggered test set was given (the evaluation section), so ASR, RA and DER are unknown."
        }
        return s
    }

    /// The isolation line (and the close-call warning under it).
    static func isolationSentence(_ i: IsolationRecord) -> String {
        var s = "Isolation: \(i.count) samples (p = \(i.ratio), \(i.strategy), LGA \(i.granularity)"
        let target = targetClause(i)
        s += target.text
        if let d = i.distanceThreshold { s += String(format: ", taken by feature distance from the label's test samples, at least %.3g", d) }
        if let a = i.adaptive {
            s += ", adaptive count between \(a.minRatio) and \(a.maxRatio) of the set"
            if let b = a.boundaryLoss { s += String(format: ", loss boundary %.4g", b) }
        }
        s += ")"
        if i.precision != nil || i.recall != nil { s += ": precision \(pct(i.precision)), recall \(pct(i.recall))" }
        s += ".\n"
        if let margin = target.closeCall {
            s += String(format: "**Close call:** the inferred target's statistic is only %.2f times the runner-up's; check the per-label statistics in isolation.json and the contact sheet before trusting the isolated set.\n", margin)
        }
        return s
    }
}
