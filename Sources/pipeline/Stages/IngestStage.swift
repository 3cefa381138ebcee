import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// Reads the dataset the manifest names and stores it as `.npy` arrays plus `dataset.json`,
/// with a few preview PNGs.
struct IngestStage: Stage {
    let name = "ingest"
    let upstream: [String] = []
    let formatVersion = DatasetStore.formatVersion

    func parameters(_ m: Manifest) -> JSON {
        .object(["dataset": m.section("dataset"), "ingest": m.section("ingest"), "seed": m.resolved["seed"]!])
    }

    func externalInputs(_ m: Manifest) -> [String] {
        ((try? IngestStage.source(m).inputPaths) ?? []) + (m.config.dataset.poisonIndicator.map { [$0] } ?? [])
    }

    /// With `dataset.poison_indicator`, the training split carries the user's poison flags.
    func declaredOutputs(_ m: Manifest) -> [String] {
        DatasetStore.fileNames(poisonedSplits: m.config.dataset.poisonIndicator != nil ? ["train"] : [])
    }

    /// The reader the manifest's dataset section selects.
    static func source(_ m: Manifest) throws -> DatasetSource { try m.config.dataset.source(seed: m.seed) }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let d = m.config.dataset
        var dataset: Dataset
        do {
            dataset = try IngestStage.source(m).load(name: d.format.rawValue)
        } catch let e as DatasetError {
            if case .imageSize = e { throw StageError.failed(stage: name, reason: "\(e) (set dataset.size_policy to \"resize\" to resize)") }
            throw e
        }
        if let path = d.poisonIndicator {
            // the user's ground truth, by row as given: before a test_ratio split (labels as given are all that is known)
            let given = dataset.givenRows
            let flags = try PoisonIndicator.read(path, trainCount: given?.count ?? dataset.train.count)
            let trainFlags = given.map { g in g.trainRows.map { flags[$0] } } ?? flags
            let inTest = flags.lazy.filter { $0 }.count - trainFlags.lazy.filter { $0 }.count
            if inTest > 0 { ctx.log("\(path): \(inTest) of the rows it marks as poisoned fell into the test split (test_ratio)") }
            dataset.train.poison = PoisonInfo(poisoned: trainFlags, originalLabels: dataset.train.labels, originalIndices: Array(0..<dataset.train.count))
        }
        var adjust = DatasetAdjustment()
        adjust.channels = d.channels
        adjust.height = d.height
        adjust.width = d.width
        adjust.sizePolicy = d.sizePolicy
        adjust.classNames = d.classNames
        adjust.trainLimit = d.trainLimit
        adjust.testLimit = d.testLimit
        adjust.seed = m.seed
        dataset = try adjust.apply(to: dataset)
        try DatasetStore.write(dataset, to: ctx.workFolder)

        let preview = min(m.config.ingest.preview, dataset.train.count)
        if preview > 0 {
            let folder = ctx.workFolder + "/" + m.config.ingest.previewFolder
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let s = dataset.train
            for i in 0..<preview {
                try PNGCodec.write(pixels: Array(s.image(i)), width: s.width, height: s.height, channels: s.channels,
                                   to: folder + "/" + String(format: "%03d_", i) + IngestStage.pngName(s.ids[i]))
            }
        }
        ctx.log("\(dataset.name): \(dataset.train.count) train, \(dataset.test.count) test, \(dataset.train.shapeString), \(dataset.classNames.count) classes")
    }

    /// A sample id made safe as a file name (`/` and other specials become `_`).
    static func fileSafe(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// The PNG file name of a sample: its id made safe, without the source file's own image
    /// extension (`color/astronaut.png` becomes `color_astronaut.png`, not `..._astronaut.png.png`).
    static func pngName(_ id: String) -> String {
        let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe", "bmp", "gif", "ppm", "pgm", "tif", "tiff", "webp"]
        var stem = Substring(id)
        if let dot = stem.lastIndex(of: "."), !stem[..<dot].isEmpty, !stem[..<dot].hasSuffix("/"),
           imageExtensions.contains(stem[stem.index(after: dot)...].lowercased()) {
            stem = stem[..<dot]
        }
        return fileSafe(String(stem)) + ".png"
    }
}
