import ABLNet
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
        (try? IngestStage.source(m).inputPaths) ?? []
    }

    func declaredOutputs(_ m: Manifest) -> [String] {
        DatasetStore.fileNames(poisonedSplits: [])
    }

    /// The reader the manifest's dataset section selects.
    static func source(_ m: Manifest) throws -> DatasetSource {
        let d = m.section("dataset")
        let policy = SizePolicy(rawValue: d["size_policy"]?.stringValue ?? "resize") ?? .resize
        switch d["format"]?.stringValue {
        case "fashion-mnist":
            return .fashionMNIST(root: d["root"]?.stringValue ?? ManifestSchema.fashionMNISTRoot)
        case "idx":
            return .idx(trainImages: d["train_images"]!.stringValue!, trainLabels: d["train_labels"]!.stringValue!,
                        testImages: d["test_images"]!.stringValue!, testLabels: d["test_labels"]!.stringValue!, classNames: nil)
        case "cifar10", "cifar100":
            let variant: CIFARReader.Variant = d["format"]!.stringValue! == "cifar10" ? .cifar10 : .cifar100
            let label = CIFARReader.LabelKind(rawValue: d["label"]?.stringValue ?? "fine") ?? .fine
            return .cifar(variant: variant, label: label,
                          trainFiles: d["train_files"]!.arrayValue!.compactMap(\.stringValue),
                          testFiles: d["test_files"]!.arrayValue!.compactMap(\.stringValue))
        case "image-folder":
            let c = d["channels"]!.intValue!, h = d["height"]!.intValue!, w = d["width"]!.intValue!
            if let root = d["root"]?.stringValue {
                return .imageFolderSplit(root: root, testRatio: d["test_ratio"]!.doubleValue!, seed: m.seed,
                                         channels: c, height: h, width: w, policy: policy)
            }
            return .imageFolders(train: d["train_dir"]!.stringValue!, test: d["test_dir"]!.stringValue!,
                                 channels: c, height: h, width: w, policy: policy)
        case let other:
            throw StageError.failed(stage: "ingest", reason: "unknown dataset.format \(other ?? "(none)")")
        }
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let d = m.section("dataset")
        var dataset = try IngestStage.source(m).load(name: d["format"]!.stringValue!)
        var adjust = DatasetAdjustment()
        adjust.channels = d["channels"]?.intValue
        adjust.height = d["height"]?.intValue
        adjust.width = d["width"]?.intValue
        adjust.sizePolicy = SizePolicy(rawValue: d["size_policy"]?.stringValue ?? "resize") ?? .resize
        adjust.classNames = d["class_names"]?.arrayValue?.compactMap(\.stringValue)
        adjust.trainLimit = d["train_limit"]?.intValue
        adjust.testLimit = d["test_limit"]?.intValue
        adjust.seed = m.seed
        dataset = try adjust.apply(to: dataset)
        try DatasetStore.write(dataset, to: ctx.workFolder)

        let ing = m.section("ingest")
        let preview = min(ing["preview"]?.intValue ?? 0, dataset.train.count)
        if preview > 0 {
            let folder = ctx.workFolder + "/" + (ing["preview_folder"]?.stringValue ?? "preview")
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
