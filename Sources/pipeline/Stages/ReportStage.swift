import ABLNet
import CanonicalJSON
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
    /// Where the training set comes from (the poison stage, or the dataset as given).
    var origin: DataOrigin = .poisoned
    /// Whether the no-defense model was trained (the baseline stage).
    var withNoDefense = true
    var upstream: [String] {
        ["ingest"] + (withSurrogate ? ["surrogate"] : []) + origin.stages.filter { $0 != "ingest" } + ["isolate", "export", "unlearn"]
            + (withNoDefense ? ["baseline"] : []) + (withClean ? ["clean"] : [])
    }
    /// 2: report.html and contact_sheet.png; 3: epoch wall times from timing.json; 6: report
    /// format 2 (optional attack, no-defense model and ASR).
    let formatVersion = 6

    func parameters(_ m: Manifest) -> JSON { .object(["report": m.section("report"), "manifest": m.resolved]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["report.json", "report.md", "report.html", "contact_sheet.png"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let poisonedData = try DatasetStore.read(from: ctx.upstreamFolder(origin.datasetStage))
        let report = try assemble(ctx, dataset: poisonedData)
        try OutputFile.write(report, to: ctx.workFolder + "/report.json")
        try AtomicFile.write(Data(ReportMarkdown.render(report).utf8), to: ctx.workFolder + "/report.md")
        let cleanTrain = try DatasetStore.read(from: ctx.upstreamFolder("ingest")).train
        let losses = try NPY.read(ctx.upstreamFolder("isolate") + "/losses.npy").float32
        let isolated = try NPY.read(ctx.upstreamFolder("isolate") + "/isolated.npy").int64
        let html = try HTMLReport.render(HTMLReport.Inputs(
            report: report, losses: losses, poisoned: poisonedData.train.poison?.poisoned, labels: poisonedData.train.labels,
            isolated: isolated, train: poisonedData.train, cleanTrain: cleanTrain, classNames: poisonedData.classNames,
            strategy: m.config.isolate.strategy, targetStatistic: m.config.isolate.targetStatistic))
        try AtomicFile.write(Data(html.utf8), to: ctx.workFolder + "/report.html")
        let sheet = ContactSheet.render(poisonedData.train, indices: Array(isolated.prefix(400)), columns: 20)
        try PNGCodec.write(pixels: sheet.pixels, width: sheet.width, height: sheet.height, channels: 3, to: ctx.workFolder + "/contact_sheet.png")
        ctx.log("report: " + ReportMarkdown.oneLine(report))
    }

    /// The report from the upstream stages' typed outputs.
    /// `dataset`: the training set the models trained on (read once by `run`).
    func assemble(_ ctx: StageContext, dataset poisoned: Dataset) throws -> RunReport {
        let m = ctx.manifest
        func file(_ stage: String, _ name: String) -> String { ctx.upstreamFolder(stage) + "/" + name }
        let attack = origin == .poisoned ? try OutputFile.read(AttackRecord<String>.self, from: file("poison", "attack.json")) : nil
        let trigger = origin == .given(triggered: true) ? try OutputFile.read(TriggerRecord.self, from: file(TriggerStage.stageName, TriggerStage.recordFile)) : nil
        var surrogate: SurrogateSummary? = nil
        if withSurrogate {
            // The surrogate the attack optimised against: its clean accuracy.
            let sm = try OutputFile.read(SurrogateMetrics.self, from: file("surrogate", "metrics.json"))
            surrogate = SurrogateSummary(ca: sm.final.ca, architecture: m.config.surrogate.architecture.rawValue)
        }
        func metrics(_ stage: String) throws -> TrainingMetrics { try OutputFile.read(TrainingMetrics.self, from: file(stage, "metrics.json")) }
        let noDef = withNoDefense ? try metrics("baseline") : nil, abl = try metrics("unlearn"), iso = try metrics("isolate")
        let clean = withClean ? try metrics("clean") : nil
        var ablScores = abl.final
        // DER needs both models' ASR: absent without a no-defense model or a triggered test set
        if let nd = noDef?.final, let asrND = nd.asr, let asrABL = abl.final.asr {
            ablScores.der = TrainingSupport.round4(Metrics.defenseEffectivenessRate(asrNoDefense: asrND, asrDefense: asrABL,
                                                                                     caNoDefense: nd.ca, caDefense: abl.final.ca))
        }
        // curves with each epoch's wall time (from the volatile timing.json) added
        func timed(_ stage: String, _ metrics: TrainingMetrics) -> [CurvePoint] {
            let secs = (try? OutputFile.read(Timing.self, from: file(stage, "timing.json")))?.epochSeconds ?? []
            return metrics.curve.enumerated().map { k, p in
                var p = p
                if k < secs.count { p.seconds = secs[k] }
                return p
            }
        }
        var curves = ["isolate": timed("isolate", iso), "unlearn": timed("unlearn", abl)]
        if let nd = noDef { curves["baseline"] = timed("baseline", nd) }
        if let c = clean { curves["clean"] = timed("clean", c) }
        var stages: [String: RunReport.StageSummary] = [:]
        var records: [String: StageRecord] = [:]
        for s in upstream {
            guard let rec = StageRecord.read(folder: ctx.upstreamFolder(s)) else { throw StageError.failed(stage: name, reason: "\(file(s, StageRecord.fileName)): missing or invalid") }
            records[s] = rec
            // the report runs only on fresh upstream stages (the runner brings them up to date first)
            stages[s] = .init(durationS: (rec.durationSeconds * 1000).rounded() / 1000, cacheKey: rec.cacheKey, ended: rec.ended, status: "fresh",
                                 producedBy: rec.producedBy)
        }
        // content digests of the data and the models the numbers come from (SHA-256 of the files)
        func digest(_ stage: String, _ f: String) -> String { records[stage]?.outputs[f] ?? "" }
        var modelDigests = ["abl": digest("unlearn", "model.safetensors"), "isolation": digest("isolate", "model.safetensors")]
        if withNoDefense { modelDigests["no_defense"] = digest("baseline", "model.safetensors") }
        if withClean { modelDigests["clean"] = digest("clean", "model.safetensors") }
        if withSurrogate { modelDigests["surrogate"] = digest("surrogate", "model.safetensors") }
        let data = origin.datasetStage
        var report = RunReport(
            run: m.name, title: m.config.report.title ?? m.name,
            versions: .current(ranks: m.ranks, engineWorkers: m.engineWorkers),
            digests: .init(trainImages: digest(data, "train_images.npy"), trainLabels: digest(data, "train_labels.npy"),
                           testImages: digest(data, "test_images.npy"),
                           triggeredTestImages: origin.triggeredStage.map { digest($0, "triggered_test_images.npy") },
                           cleanTrainImages: origin == .poisoned ? digest("ingest", "train_images.npy") : nil, models: modelDigests),
            attack: attack?.with(surrogate: surrogate), evaluation: trigger,
            models: .init(noDefense: noDef?.final, abl: ablScores, isolationModel: iso.final, clean: clean?.final),
            isolation: try OutputFile.read(IsolationRecord.self, from: file("isolate", "isolation.json")),
            labelBalance: LabelBalanceSummary(LabelBalance(labels: poisoned.train.labels, classes: poisoned.classNames.count), classNames: poisoned.classNames),
            curves: curves, stages: stages,
            unlearning: .init(mode: m.config.unlearn.mode.rawValue, isolatedAccuracy: abl.isolatedAccuracy, ascentStopped: abl.ascentStopped ?? nil),
            parameters: m.resolved)
        report.detection = report.isolation.detection
        return report
    }
}
