import ABLNet
import Foundation
import PoisonForge
import Sanitizer

/// Collects the metrics of every stage into `report.json` (layout: docs/REPORT.md) and a short
/// `report.md`. It trains nothing.
struct ReportStage: Stage {
    let name = "report"
    let withClean: Bool
    /// Whether the run has a surrogate stage (its time and accuracy are reported).
    var withSurrogate = false
    var upstream: [String] { ["ingest"] + (withSurrogate ? ["surrogate"] : []) + ["poison", "isolate", "export", "unlearn", "baseline"] + (withClean ? ["clean"] : []) }
    /// 2: report.html and contact_sheet.png; 3: epoch wall times from timing.json.
    let formatVersion = 5
    static let toolVersion = "0.1.0"
    /// The compiler that built this binary.
    static var swiftVersion: String {
        #if compiler(>=6.4)
        return ">= 6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "< 6.2"
        #endif
    }

    func parameters(_ m: Manifest) -> JSON { .object(["report": m.section("report"), "manifest": m.resolved]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["report.json", "report.md", "report.html", "contact_sheet.png"] }

    func read(_ ctx: StageContext, _ stage: String, _ file: String) throws -> JSON {
        let path = ctx.upstreamFolder(stage) + "/" + file
        guard let d = try? InputFile.read(path) else { throw StageError.failed(stage: name, reason: "\(path): missing") }
        return try JSON.parse(bytes: d)
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        var attack = try read(ctx, "poison", "attack.json")
        if withSurrogate, case .object(var a) = attack {
            // The surrogate the attack optimised against: its clean accuracy.
            a["surrogate"] = .object(["ca": try read(ctx, "surrogate", "metrics.json")["final"]?["ca"] ?? .null,
                                      "architecture": m.section("surrogate")["architecture"] ?? .null])
            attack = .object(a)
        }
        let isolation = try read(ctx, "isolate", "isolation.json")
        let noDef = try read(ctx, "baseline", "metrics.json"), abl = try read(ctx, "unlearn", "metrics.json")
        let iso = try read(ctx, "isolate", "metrics.json")
        let clean = withClean ? try read(ctx, "clean", "metrics.json") : nil
        func scores(_ j: JSON?) -> JSON { j?["final"] ?? .null }
        let nd = scores(noDef), ab = scores(abl)
        var ablScores = ab.objectValue ?? [:]
        if let a1 = nd["asr"]?.doubleValue, let a2 = ab["asr"]?.doubleValue, let c1 = nd["ca"]?.doubleValue, let c2 = ab["ca"]?.doubleValue {
            ablScores["der"] = .number(TrainingSupport.round4(Metrics.defenseEffectivenessRate(asrNoDefense: a1, asrDefense: a2, caNoDefense: c1, caDefense: c2)))
        }
        var models: [String: JSON] = ["no_defense": nd, "abl": .object(ablScores), "isolation_model": scores(iso)]
        if let c = clean { models["clean"] = scores(c) }
        // curves with each epoch's wall time (from the volatile timing.json) added
        func timed(_ stage: String, _ metrics: JSON?) throws -> JSON {
            let secs = (try? read(ctx, stage, "timing.json"))?["epoch_seconds"]?.arrayValue ?? []
            return .array((metrics?["curve"]?.arrayValue ?? []).enumerated().map { k, p in
                guard case .object(var o) = p, k < secs.count else { return p }
                o["seconds"] = secs[k]
                return .object(o)
            })
        }
        var curves: [String: JSON] = ["isolate": try timed("isolate", iso), "unlearn": try timed("unlearn", abl), "baseline": try timed("baseline", noDef)]
        if let c = clean { curves["clean"] = try timed("clean", c) }
        var stages: [String: JSON] = [:]
        for s in upstream {
            let rec = try read(ctx, s, "stage.json")
            // the report runs only on fresh upstream stages (the runner brings them up to date first)
            stages[s] = .object(["duration_s": rec["duration_s"] ?? .null, "cache_key": rec["cache_key"] ?? .null,
                                 "ended": rec["ended"] ?? .null, "status": .string("fresh")])
        }
        // content digests of the data and the models the numbers come from (SHA-256 of the files)
        func digest(_ stage: String, _ file: String) throws -> JSON {
            .string(try read(ctx, stage, "stage.json")["outputs"]?[file]?.stringValue ?? "")
        }
        var modelDigests: [String: JSON] = ["abl": try digest("unlearn", "model.safetensors"), "no_defense": try digest("baseline", "model.safetensors"),
                                            "isolation": try digest("isolate", "model.safetensors")]
        if withClean { modelDigests["clean"] = try digest("clean", "model.safetensors") }
        if withSurrogate { modelDigests["surrogate"] = try digest("surrogate", "model.safetensors") }
        let digests = JSON.object([
            "poisoned_train_images": try digest("poison", "train_images.npy"), "poisoned_train_labels": try digest("poison", "train_labels.npy"),
            "test_images": try digest("poison", "test_images.npy"), "triggered_test_images": try digest("poison", "triggered_test_images.npy"),
            "clean_train_images": try digest("ingest", "train_images.npy"), "models": .object(modelDigests),
        ])
        let poisonedData = try DatasetStore.read(from: ctx.upstreamFolder("poison"))
        let balance = LabelBalance(labels: poisonedData.train.labels, classes: poisonedData.classNames.count)
        let labelBalance = ReportStage.labelBalance(balance, classNames: poisonedData.classNames)
        let report = JSON.object([
            "format": .string("abl-report"), "format_version": .number(1),
            "run": .string(m.name), "title": .string(m.section("report")["title"]?.stringValue ?? m.name),
            "versions": .object(["abl": .string(ReportStage.toolVersion), "swift": .string(ReportStage.swiftVersion), "openblas": .string(BLAS.config),
                                 "openblas_core": .string(BLAS.coreName), "engine_workers": .number(Double(Engine.workers))]),
            "digests": digests,
            "attack": attack, "models": .object(models), "isolation": isolation, "label_balance": labelBalance, "curves": .object(curves), "stages": .object(stages),
            "unlearning": .object(["mode": m.section("unlearn")["mode"] ?? .null, "isolated_accuracy": abl["isolated_accuracy"] ?? .null,
                                   "ascent_stopped": abl["ascent_stopped"] ?? .null]),
            "parameters": m.resolved,
        ])
        try AtomicFile.write(Data(report.pretty.utf8), to: ctx.workFolder + "/report.json")
        try AtomicFile.write(Data(ReportStage.markdown(report).utf8), to: ctx.workFolder + "/report.md")
        let cleanTrain = try DatasetStore.read(from: ctx.upstreamFolder("ingest")).train
        let losses = try NPY.read(ctx.upstreamFolder("isolate") + "/losses.npy").float32
        let isolated = try NPY.read(ctx.upstreamFolder("isolate") + "/isolated.npy").int64
        let html = try HTMLReport.render(HTMLReport.Inputs(
            report: report, losses: losses, poisoned: poisonedData.train.poison?.poisoned, labels: poisonedData.train.labels,
            isolated: isolated, train: poisonedData.train, cleanTrain: cleanTrain, classNames: poisonedData.classNames,
            strategy: IsolationStrategy(rawValue: m.section("isolate")["strategy"]?.stringValue ?? "lowest-loss") ?? .lowestLoss,
            targetStatistic: TargetStatistic(rawValue: m.section("isolate")["target_statistic"]?.stringValue ?? "separation") ?? .separation))
        try AtomicFile.write(Data(html.utf8), to: ctx.workFolder + "/report.html")
        let sheet = ContactSheet.render(poisonedData.train, indices: Array(isolated.prefix(400)), columns: 20)
        try PNGCodec.write(pixels: sheet.pixels, width: sheet.width, height: sheet.height, channels: 3, to: ctx.workFolder + "/contact_sheet.png")
        ctx.log("report: " + ReportStage.oneLine(report))
    }

    /// The report's `label_balance` entry: samples per label of the poisoned training set and the largest label's excess.
    static func labelBalance(_ b: LabelBalance, classNames: [String]) -> JSON {
        .object(["counts": .array(b.counts.map { .number(Double($0)) }), "median": .number(b.median),
                 "largest": .number(Double(b.largest)), "largest_name": .string(b.largest < classNames.count ? classNames[b.largest] : ""),
                 "excess": .number(TrainingSupport.round4(b.excess)), "flagged": .bool(b.flagged)])
    }

    /// One plain-text sentence on the label counts (the second, independent hint of `LabelBalance`:
    /// dirty-label poisoning inflates its target label), for the Markdown and the HTML report.
    static func labelCountLine(_ r: JSON) -> String? {
        guard let b = r["label_balance"], let largest = b["largest"]?.intValue, let counts = b["counts"]?.arrayValue,
              largest < counts.count, let n = counts[largest].intValue else { return nil }
        var s = String(format: "Label counts: the largest label, %d (%@), holds %d training samples, %.2f times the median label's %.0f", largest,
                       b["largest_name"]?.stringValue ?? "", n, b["excess"]?.doubleValue ?? 0, b["median"]?.doubleValue ?? 0)
        if b["flagged"]?.boolValue == true {
            s += "; dirty-label poisoning inflates its target this way"
            if let t = r["isolation"]?["inferred_target"]?.intValue, t != largest {
                s += String(format: ". It is not the inferred target (%d): if the source was balanced, review label %d as the possible target", t, largest)
            }
        }
        return s + "."
    }

    static func pct(_ v: JSON?) -> String { v?.doubleValue.map { String(format: "%.2f %%", $0 * 100) } ?? "n/a" }

    static func oneLine(_ r: JSON) -> String {
        "no defense CA \(pct(r["models"]?["no_defense"]?["ca"])) ASR \(pct(r["models"]?["no_defense"]?["asr"])); ABL CA \(pct(r["models"]?["abl"]?["ca"])) ASR \(pct(r["models"]?["abl"]?["asr"])); isolation precision \(pct(r["isolation"]?["precision"]))"
    }

    /// The Markdown summary: the model table, isolation, attack and stage times.
    static func markdown(_ r: JSON) -> String {
        var s = "# \(r["title"]?.stringValue ?? "ABL run")\n\n"
        let a = r["attack"] ?? .null
        s += "Attack: **\(a["name"]?.stringValue ?? "?")** (\(a["label_kind"]?.stringValue ?? "?")-label, \(a["mode"]?.stringValue ?? "?"), target \(a["target"]?.intValue ?? -1) `\(a["target_name"]?.stringValue ?? "")`), "
        s += "\(a["poisoned"]?.intValue ?? 0) of \(a["train_count"]?.intValue ?? 0) training images poisoned (rate \(a["rate"]?.doubleValue ?? 0) of the \(a["rate_counts"]?.stringValue ?? "?")).\n\n"
        if case .object(let d)? = a["details"] {
            s += "Attack details: " + d.keys.sorted().map { "\($0) \(d[$0]!.canonical)" }.joined(separator: "; ") + ".\n\n"
        }
        s += "| model | CA | CA-nt | ASR | RA | DER |\n|---|---|---|---|---|---|\n"
        for (key, label) in [("no_defense", "no defense"), ("abl", "ABL"), ("clean", "clean model")] {
            guard let mm = r["models"]?[key], mm != .null else { continue }
            s += "| \(label) | \(pct(mm["ca"])) | \(pct(mm["ca_nt"])) | \(pct(mm["asr"])) | \(pct(mm["ra"])) | \(mm["der"].map { pct($0) } ?? "") |\n"
        }
        let i = r["isolation"] ?? .null
        s += "\nIsolation: \(i["count"]?.intValue ?? 0) samples (p = \(i["ratio"]?.doubleValue ?? 0), \(i["strategy"]?.stringValue ?? "?"), LGA \(i["granularity"]?.stringValue ?? "?")"
        var closeCall: Double? = nil
        if let t = i["given_target"]?.intValue {
            s += ", target \(t) given by the manifest"
        } else if let t = i["inferred_target"]?.intValue {
            s += ", inferred target \(t)"
            if let st = i["target_statistic"]?.stringValue, let statistic = TargetStatistic(rawValue: st), case .object(let scores)? = i[statistic.isolationKey] {
                // the statistic of the target and of the runner-up, so a reader sees how clear the choice was
                let ranked = scores.compactMap { k, v in v.doubleValue.map { (k, $0) } }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                s += String(format: " by %@ (%.2f", st, scores[String(t)]?.doubleValue ?? 0)
                if let next = ranked.first(where: { $0.0 != String(t) }) {
                    s += String(format: "; next label %@, %.2f", next.0, next.1)
                    closeCall = IsolateStage.closeCallMargin(scores[String(t)]?.doubleValue ?? 0, next.1)
                }
                s += ")"
            }
        }
        if let a = i["adaptive"], a != .null {
            s += ", adaptive count between \(a["min_ratio"]?.doubleValue ?? 0) and \(a["max_ratio"]?.doubleValue ?? 0) of the set"
            if let b = a["boundary_loss"]?.doubleValue { s += String(format: ", loss boundary %.4g", b) }
        }
        s += "): precision \(pct(i["precision"])), recall \(pct(i["recall"])).\n"
        if let margin = closeCall {
            s += String(format: "**Close call:** the inferred target's statistic is only %.2f times the runner-up's; check the per-label statistics in isolation.json and the contact sheet before trusting the isolated set.\n", margin)
        }
        if let line = labelCountLine(r) { s += line + "\n" }
        s += "Unlearning mode: \(r["unlearning"]?["mode"]?.stringValue ?? "?")"
        if let st = r["unlearning"]?["ascent_stopped"], st != .null { s += ", ascent stopped by the rule at epoch \(st["epoch"]?.intValue ?? 0) step \(st["step"]?.intValue ?? 0)" }
        s += ".\n\n| stage | wall time |\n|---|---|\n"
        for (k, v) in (r["stages"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            s += "| \(k) | \(v["duration_s"]?.doubleValue.map { String(format: "%.1f s", $0) } ?? "?") |\n"
        }
        return s
    }
}
