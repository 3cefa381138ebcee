import ABLNet
import Foundation

/// Where a dataset comes from: one case per reader.
public enum DatasetSource: Sendable {
    /// IDX image and label files (MNIST layout, raw or gzip).
    case idx(trainImages: String, trainLabels: String, testImages: String, testLabels: String, classNames: [String]?)
    /// `.npy` files as numpy saves them (`NPYDatasetReader`): a test pair, or a seeded stratified
    /// share of the training files as the test split.
    case npy(trainImages: String, trainLabels: String, test: NPYDatasetReader.TestSplit, classNames: [String]?)
    /// CIFAR binary batches.
    case cifar(variant: CIFARReader.Variant, label: CIFARReader.LabelKind, trainFiles: [String], testFiles: [String])
    /// An ImageFolder train tree and test tree.
    case imageFolders(train: String, test: String, channels: Int, height: Int, width: Int, policy: SizePolicy)
    /// One ImageFolder tree split per class by a seeded ratio.
    case imageFolderSplit(root: String, testRatio: Double, seed: UInt64, channels: Int, height: Int, width: Int, policy: SizePolicy)

    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The Debian `dataset-fashion-mnist` files under `root`.
    public static func fashionMNIST(root: String = "/usr/share/datasets/fashion-mnist") -> DatasetSource {
        .idx(trainImages: root + "/train-images-idx3-ubyte.gz", trainLabels: root + "/train-labels-idx1-ubyte.gz",
             testImages: root + "/t10k-images-idx3-ubyte.gz", testLabels: root + "/t10k-labels-idx1-ubyte.gz",
             classNames: fashionMNISTClassNames)
    }

    /// Every file or folder the source reads (their contents enter the ingest stage's cache key).
    public var inputPaths: [String] {
        switch self {
        case .idx(let a, let b, let c, let d, _): return [a, b, c, d]
        case .npy(let a, let b, let test, _):
            if case .files(let c, let d) = test { return [a, b, c, d] }
            return [a, b]
        case .cifar(let variant, let label, let tr, let te):
            // the class names beside the batches, where there are some
            let names = tr.first.map { CIFARReader.namesFile(near: $0, variant: variant, labelKind: label) }
            return tr + te + (names.map { FileManager.default.fileExists(atPath: $0) ? [$0] : [] } ?? [])
        case .imageFolders(let tr, let te, _, _, _, _): return [tr, te]
        case .imageFolderSplit(let root, _, _, _, _, _, _): return [root]
        }
    }

    /// The most classes inferred from labels alone.
    public static let maxInferredClasses = 100_000

    /// The classes of an IDX or `.npy` dataset: the given names, or `class0..<k` where every label from 0
    /// to the largest one has training images. Every test label must be a class with training images.
    static func idxClassNames(_ names: [String]?, trainLabels: [Int], trainPath: String,
                              testLabels: [Int], testPath: String) throws -> [String] {
        if names == nil, let top = trainLabels.max(), top >= maxInferredClasses {
            throw DatasetError.badFormat(path: trainPath, reason: "label \(top): labels must be class numbers 0..<k with k below \(maxInferredClasses) (give class_names for more)")
        }
        let k = names?.count ?? ((trainLabels.max() ?? 0) + 1)
        if let bad = trainLabels.first(where: { $0 < 0 || $0 >= k }) {
            throw DatasetError.labelOutOfRange(path: trainPath, label: bad, classes: k)
        }
        var seen = [Bool](repeating: false, count: k)
        for l in trainLabels { seen[l] = true }
        if names == nil, let gap = seen.firstIndex(of: false) {
            let top = k - 1
            throw DatasetError.badFormat(path: trainPath, reason: "labels run up to \(top) but no training image has label \(gap): the classes must be 0..<k, each with training images")
        }
        if let bad = testLabels.first(where: { $0 < 0 || $0 >= k || !seen[$0] }) {
            throw DatasetError.badFormat(path: testPath, reason: "test label \(bad) is not a class of the training set (no training image has it; classes 0..<\(k))")
        }
        return names ?? (0..<k).map { "class\($0)" }
    }

    /// Reads the dataset.
    public func load(name: String) throws -> Dataset {
        switch self {
        case .idx(let trImg, let trLab, let teImg, let teLab, let names):
            func split(_ imgPath: String, _ labPath: String, _ prefix: String) throws -> DatasetSplit {
                let img = try IDXReader.readImages(imgPath)
                let labels = try IDXReader.readLabels(labPath)
                guard labels.count == img.count else {
                    throw DatasetError.shapeMismatch(path: labPath, reason: "\(labels.count) labels for \(img.count) images in \(imgPath)")
                }
                return DatasetSplit(height: img.height, width: img.width, channels: 1, pixels: img.pixels, labels: labels,
                                    ids: (0..<img.count).map { "\(prefix)-\($0)" }, sources: [imgPath, labPath],
                                    sourceOf: Array(repeating: 0, count: img.count), sourceIndex: Array(0..<img.count))
            }
            let train = try split(trImg, trLab, "train"), test = try split(teImg, teLab, "test")
            let classNames = try DatasetSource.idxClassNames(names, trainLabels: train.labels, trainPath: trLab,
                                                             testLabels: test.labels, testPath: teLab)
            return Dataset(name: name, classNames: classNames, train: train, test: test)
        case .npy(let trImg, let trLab, let test, let names):
            return try NPYDatasetReader.read(trainImages: trImg, trainLabels: trLab, test: test, classNames: names, name: name)
        case .cifar(let variant, let label, let trainFiles, let testFiles):
            let train = try CIFARReader.read(files: trainFiles, variant: variant, labelKind: label, idPrefix: "train")
            let test = try CIFARReader.read(files: testFiles, variant: variant, labelKind: label, idPrefix: "test")
            let count = variant == .cifar10 ? 10 : (label == .fine ? 100 : 20)
            var names = try CIFARReader.classNames(near: trainFiles[0], variant: variant, labelKind: label) ?? (0..<count).map { "class\($0)" }
            if names.count != count { names = (0..<count).map { "class\($0)" } }
            return Dataset(name: name, classNames: names, train: train, test: test)
        case .imageFolders(let tr, let te, let c, let h, let w, let policy):
            return try ImageFolderReader.read(trainRoot: tr, testRoot: te, channels: c, height: h, width: w, policy: policy, name: name)
        case .imageFolderSplit(let root, let ratio, let seed, let c, let h, let w, let policy):
            return try ImageFolderReader.read(root: root, testRatio: ratio, seed: seed, channels: c, height: h, width: w, policy: policy, name: name)
        }
    }
}

/// Post-processing applied after reading: channel conversion, size, subsets, class names.
public struct DatasetAdjustment: Sendable {
    public var channels: Int?
    public var height: Int?
    public var width: Int?
    public var sizePolicy: SizePolicy = .resize
    public var classNames: [String]?
    public var trainLimit: Int?
    public var testLimit: Int?
    public var seed: UInt64 = 0

    public init() {}

    public func apply(to input: Dataset) throws -> Dataset {
        var ds = input
        if let names = classNames {
            let needed = max(ds.train.labels.max() ?? 0, ds.test.labels.max() ?? 0) + 1
            guard names.count >= needed else {
                throw DatasetError.invalid("\(names.count) class names given but the labels need \(needed)")
            }
            ds.classNames = names
        }
        var rng = SeededRNG(seed: seed, stream: "dataset-limit")
        if let n = trainLimit, n < ds.train.count { ds.train = ds.train.subset(rng.permutation(ds.train.count).prefix(n).sorted()) }
        if let n = testLimit, n < ds.test.count { ds.test = ds.test.subset(rng.permutation(ds.test.count).prefix(n).sorted()) }
        ds.train = try adjust(ds.train, split: "train")
        ds.test = try adjust(ds.test, split: "test")
        return ds
    }

    /// The channel and size conversion alone, for a split read apart from the dataset (a
    /// triggered test set the user supplies), so it is stored like the dataset's own images.
    public func adjust(_ s: DatasetSplit, split: String) throws -> DatasetSplit {
        var out = s
        if let c = channels, c != s.channels {
            out.pixels = DatasetAdjustment.convertChannels(s.pixels, from: s.channels, to: c)
            out.channels = c
        }
        let h = height ?? s.height, w = width ?? s.width
        if h != s.height || w != s.width {
            guard sizePolicy == .resize else {
                throw DatasetError.shapeMismatch(path: s.sources.first ?? split, reason: "\(split) images are \(s.width)x\(s.height), the requested size is \(w)x\(h) and other sizes are rejected")
            }
            let size = out.sampleSize
            var px = [UInt8]()
            px.reserveCapacity(s.count * h * w * out.channels)
            for i in 0..<s.count {
                px += Resize.bilinear(Array(out.pixels[(i * size)..<((i + 1) * size)]), width: s.width, height: s.height,
                                      channels: out.channels, toWidth: w, toHeight: h)
            }
            out.pixels = px
            out.height = h
            out.width = w
        }
        return out
    }

    /// Gray to RGB replicates the value; RGB to gray uses ITU-R 601 luma (as PIL's "L" mode).
    public static func convertChannels(_ px: [UInt8], from: Int, to: Int) -> [UInt8] {
        if from == to { return px }
        if from == 1 {
            var out = [UInt8](repeating: 0, count: px.count * 3)
            for i in 0..<px.count { out[3 * i] = px[i]; out[3 * i + 1] = px[i]; out[3 * i + 2] = px[i] }
            return out
        }
        let n = px.count / 3
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let y = (299 * Int(px[3 * i]) + 587 * Int(px[3 * i + 1]) + 114 * Int(px[3 * i + 2]) + 500) / 1000
            out[i] = UInt8(min(255, y))
        }
        return out
    }
}
