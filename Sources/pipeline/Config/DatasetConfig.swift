import Foundation
import PoisonForge

/// The `dataset` section: the common fields, and the reader `format` selects with its own fields.
struct DatasetConfig: Decodable, Sendable {
    enum Format: String, Decodable, Sendable, CaseIterable {
        case fashionMNIST = "fashion-mnist", idx, npy, cifar10, cifar100, imageFolder = "image-folder"
    }

    /// The reader and the fields only it has.
    enum Reader: Sendable {
        case fashionMNIST(root: String)
        case idx(trainImages: String, trainLabels: String, testImages: String, testLabels: String)
        case npy(trainImages: String, trainLabels: String, testImages: String?, testLabels: String?, testRatio: Double?)
        case cifar(CIFARReader.Variant, label: CIFARReader.LabelKind, trainFiles: [String], testFiles: [String])
        /// Either two trees (`train`, `test`) or one `root` split by `testRatio`.
        case imageFolder(train: String?, test: String?, root: String?, testRatio: Double?)
    }

    let format: Format
    let reader: Reader
    let channels: Int?
    let height: Int?
    let width: Int?
    let sizePolicy: SizePolicy
    let classNames: [String]?
    let trainLimit: Int?
    let testLimit: Int?
    /// Which training rows the user knows to be poisoned (data brought without an attack section).
    let poisonIndicator: String?

    private enum Keys: String, CodingKey {
        case format, channels, height, width, sizePolicy, classNames, trainLimit, testLimit, poisonIndicator
        case root, trainImages, trainLabels, testImages, testLabels, trainFiles, testFiles, label, trainDir, testDir, testRatio
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        format = try c.decode(Format.self, forKey: .format)
        channels = try c.decodeIfPresent(Int.self, forKey: .channels)
        height = try c.decodeIfPresent(Int.self, forKey: .height)
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        sizePolicy = try c.decode(SizePolicy.self, forKey: .sizePolicy)
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames)
        trainLimit = try c.decodeIfPresent(Int.self, forKey: .trainLimit)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        poisonIndicator = try c.decodeIfPresent(String.self, forKey: .poisonIndicator)
        switch format {
        case .fashionMNIST:
            reader = .fashionMNIST(root: try c.decode(String.self, forKey: .root))
        case .idx:
            reader = .idx(trainImages: try c.decode(String.self, forKey: .trainImages), trainLabels: try c.decode(String.self, forKey: .trainLabels),
                          testImages: try c.decode(String.self, forKey: .testImages), testLabels: try c.decode(String.self, forKey: .testLabels))
        case .npy:
            reader = .npy(trainImages: try c.decode(String.self, forKey: .trainImages), trainLabels: try c.decode(String.self, forKey: .trainLabels),
                          testImages: try c.decodeIfPresent(String.self, forKey: .testImages), testLabels: try c.decodeIfPresent(String.self, forKey: .testLabels),
                          testRatio: try c.decodeIfPresent(Double.self, forKey: .testRatio))
        case .cifar10, .cifar100:
            reader = .cifar(format == .cifar10 ? .cifar10 : .cifar100,
                            label: try c.decodeIfPresent(CIFARReader.LabelKind.self, forKey: .label) ?? .fine,
                            trainFiles: try c.decode([String].self, forKey: .trainFiles), testFiles: try c.decode([String].self, forKey: .testFiles))
        case .imageFolder:
            reader = .imageFolder(train: try c.decodeIfPresent(String.self, forKey: .trainDir), test: try c.decodeIfPresent(String.self, forKey: .testDir),
                                  root: try c.decodeIfPresent(String.self, forKey: .root), testRatio: try c.decodeIfPresent(Double.self, forKey: .testRatio))
        }
    }

    /// Whether the test split is carved from the training files (`test_ratio`): it then holds any
    /// poison in the same share, and is no clean reference for the detection verdict.
    var testFromTrainingData: Bool {
        switch reader {
        case .npy(_, _, let ti, let tl, _): return ti == nil || tl == nil
        case .imageFolder(_, _, let root, _): return root != nil
        default: return false
        }
    }

    /// The reader as a `DatasetSource`. Fails only when the image-folder fields the validation
    /// requires are absent (a manifest built without `Manifest.resolve`).
    func source(seed: UInt64) throws -> DatasetSource {
        switch reader {
        case .fashionMNIST(let root):
            return .fashionMNIST(root: root)
        case .idx(let ti, let tl, let vi, let vl):
            return .idx(trainImages: ti, trainLabels: tl, testImages: vi, testLabels: vl, classNames: nil)
        case .npy(let ti, let tl, let vi, let vl, let ratio):
            if let vi, let vl { return .npy(trainImages: ti, trainLabels: tl, test: .files(images: vi, labels: vl), classNames: classNames) }
            guard let ratio else { throw ManifestIssue(path: "dataset.test_images", rule: "npy needs test_images and test_labels, or test_ratio") }
            return .npy(trainImages: ti, trainLabels: tl, test: .share(ratio: ratio, seed: seed), classNames: classNames)
        case .cifar(let variant, let label, let train, let test):
            return .cifar(variant: variant, label: label, trainFiles: train, testFiles: test)
        case .imageFolder(let train, let test, let root, let ratio):
            guard let c = channels, let h = height, let w = width else {
                throw ManifestIssue(path: "dataset.channels", rule: "channels, height and width are required for image-folder")
            }
            if let root, let ratio {
                return .imageFolderSplit(root: root, testRatio: ratio, seed: seed, channels: c, height: h, width: w, policy: sizePolicy)
            }
            guard let train, let test else { throw ManifestIssue(path: "dataset.train_dir", rule: "image-folder needs train_dir and test_dir, or root and test_ratio") }
            return .imageFolders(train: train, test: test, channels: c, height: h, width: w, policy: sizePolicy)
        }
    }
}
