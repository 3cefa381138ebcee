import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// The auditor's hand-off: the isolated samples in rank order as `isolated.csv` and
/// `isolated.json` (rank, sample id, provenance, label as given, loss, truly poisoned when known),
/// and the images as PNG named by rank and id, plus a README.txt.
struct ExportStage: Stage {
    let name = "export"
    /// Where the training set comes from (the poison stage, or the dataset as given).
    var origin: DataOrigin = .poisoned
    var upstream: [String] { [origin.datasetStage, "isolate"] }
    /// 2: contact_sheet.png.
    let formatVersion = 2

    func parameters(_ m: Manifest) -> JSON { .object(["export": m.section("export")]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] {
        let f = m.config.export.folder
        return [f + "/isolated.csv", f + "/isolated.json", f + "/README.txt", f + "/contact_sheet.png"]
    }

    /// A CSV field, quoted when it holds a comma, quote or newline.
    static func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let ds = try DatasetStore.read(from: ctx.upstreamFolder(origin.datasetStage))
        let train = ds.train
        let isolated = try NPY.read(ctx.upstreamFolder("isolate") + "/isolated.npy").int64
        let losses = try NPY.read(ctx.upstreamFolder("isolate") + "/losses.npy").float32
        guard losses.count == train.count, isolated.allSatisfy({ $0 >= 0 && $0 < train.count }) else {
            throw StageError.failed(stage: name, reason: "isolate outputs do not match the training set (\(train.count) samples)")
        }
        let folder = ctx.workFolder + "/" + (m.config.export.folder)
        let png = m.config.export.png
        try FileManager.default.createDirectory(atPath: folder + (png ? "/images" : ""), withIntermediateDirectories: true)
        var csv = "rank,index,id,provenance,label,label_name,loss,poisoned,image\n"
        var rows: [JSON] = []
        for (r, i) in isolated.enumerated() {
            let rank = r + 1
            let file = png ? String(format: "images/%04d_", rank) + IngestStage.pngName(train.ids[i]) : ""
            if png {
                try PNGCodec.write(pixels: Array(train.image(i)), width: train.width, height: train.height, channels: train.channels, to: folder + "/" + file)
            }
            let poisoned = train.poison.map { $0.poisoned[i] ? "true" : "false" } ?? ""
            let label = train.labels[i]
            csv += [String(rank), String(i), ExportStage.csv(train.ids[i]), ExportStage.csv(train.provenance(i)), String(label),
                    ExportStage.csv(ds.classNames[label]), String(format: "%.6g", losses[i]), poisoned, file].joined(separator: ",") + "\n"
            var row: [String: JSON] = ["rank": .number(Double(rank)), "index": .number(Double(i)), "id": .string(train.ids[i]),
                                       "provenance": .string(train.provenance(i)), "label": .number(Double(label)),
                                       "label_name": .string(ds.classNames[label]), "loss": .number(Double(losses[i])), "image": .string(file)]
            if let p = train.poison { row["poisoned"] = .bool(p.poisoned[i]) }
            rows.append(.object(row))
        }
        try AtomicFile.write(Data(csv.utf8), to: folder + "/isolated.csv")
        let sheet = ContactSheet.render(train, indices: isolated, columns: 20)
        try PNGCodec.write(pixels: sheet.pixels, width: sheet.width, height: sheet.height, channels: 3, to: folder + "/contact_sheet.png")
        let iso = try JSON.parse(bytes: (try? InputFile.read(ctx.upstreamFolder("isolate") + "/isolation.json")) ?? [])
        let record = try OutputFile.read(IsolationRecord.self, from: ctx.upstreamFolder("isolate") + "/isolation.json")
        try AtomicFile.write(Data(JSON.object(["run": .string(m.name), "isolation": iso, "samples": .array(rows)]).pretty.utf8), to: folder + "/isolated.json")
        let readme = """
        Isolated samples of run "\(m.name)" (Anti-Backdoor Learning, stage 1)

        How they were chosen: a network was trained from scratch on the training set for \
        \(m.config.isolate.epochs) epochs with local gradient ascent (LGA, gamma \
        \(JSON.formatNumber(m.config.isolate.gamma))), which keeps clean samples' losses near gamma while \
        backdoored samples, learned much faster, fall far below it. Every training sample's loss was \
        then computed. \(ExportStage.howChosen(record, trainCount: train.count, classNames: ds.classNames))
        \(ExportStage.orderLine(record))

        Files
          isolated.csv   one row per sample: rank, index (in the training set as ingested), id,
                         provenance (source file, or source file#record), label as given, label
                         name, loss, poisoned (true/false when the ground truth is known, else
                         empty), image (the PNG below)
          isolated.json  the same rows, with the isolation settings and, when known, precision
                         and recall
          images/        each isolated image as PNG, named <rank>_<id>.png
          contact_sheet.png  all isolated images in rank order, 20 per row (2x scale)

        """
        try AtomicFile.write(Data(readme.utf8), to: folder + "/README.txt")
        ctx.log("exported \(isolated.count) isolated samples to \(name)/\(m.config.export.folder)")
    }
}
