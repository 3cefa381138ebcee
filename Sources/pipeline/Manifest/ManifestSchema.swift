import ABLNet

/// The manifest's specification: every section, field, default and rule, in one place. It
/// drives `abl validate`, the defaults of the resolved manifest, `docs/MANIFEST.md` and the JSON
/// Schema in `manifests/` (both generated from it by `abl schema`).
enum ManifestSchema {
    static let fashionMNISTRoot = "/usr/share/datasets/fashion-mnist"
    static let fashionMNISTFiles = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

    static let dataset = Section(
        doc: "Where the images come from. Paths are relative to the working directory.",
        fields: [
            .required("format", .choice(["fashion-mnist", "idx", "cifar10", "cifar100", "image-folder"]),
                      "reader: the Debian Fashion-MNIST, any IDX pair (MNIST layout), CIFAR binary batches, or an ImageFolder tree"),
            .optional("channels", .integer, default: nil,
                      "channels to store (1 or 3); gray is replicated to RGB, RGB is converted to luma. Default: the source's", [Rule(text: "must be 1 or 3") { [1, 3].contains($0.intValue ?? 0) }]),
            .optional("height", .integer, default: nil, "image height to store; default: the source's", [.range(1, 4096)]),
            .optional("width", .integer, default: nil, "image width to store; default: the source's", [.range(1, 4096)]),
            .optional("size_policy", .choice(["resize", "reject"]), default: .string("resize"),
                      "images of another size than height x width are resized (bilinear, half-pixel centres) or rejected"),
            .optional("class_names", .stringArray, default: nil, "class names overriding the reader's", [.nonEmpty]),
            .optional("train_limit", .integer, default: nil, "keep a seeded random subset of this many training images (all when absent)", [.range(1, nil)]),
            .optional("test_limit", .integer, default: nil, "keep a seeded random subset of this many test images (all when absent)", [.range(1, nil)]),
        ],
        discriminator: "format",
        variants: [
            ("fashion-mnist", "the Debian package dataset-fashion-mnist", [
                .optional("root", .string, default: .string(fashionMNISTRoot), "folder holding the four IDX .gz files", [.folderExists]),
            ]),
            ("idx", "IDX files (raw or gzip) in the MNIST layout", [
                .required("train_images", .string, "idx3-ubyte file of training images", [.fileExists]),
                .required("train_labels", .string, "idx1-ubyte file of training labels", [.fileExists]),
                .required("test_images", .string, "idx3-ubyte file of test images", [.fileExists]),
                .required("test_labels", .string, "idx1-ubyte file of test labels", [.fileExists]),
            ]),
            ("cifar10", "CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin)", [
                .required("train_files", .stringArray, "training batch files", [.nonEmpty, .eachFileExists]),
                .required("test_files", .stringArray, "test batch files", [.nonEmpty, .eachFileExists]),
            ]),
            ("cifar100", "CIFAR-100 binary files (train.bin, test.bin)", [
                .required("train_files", .stringArray, "training files", [.nonEmpty, .eachFileExists]),
                .required("test_files", .stringArray, "test files", [.nonEmpty, .eachFileExists]),
                .optional("label", .choice(["fine", "coarse"]), default: .string("fine"), "which CIFAR-100 label to use"),
            ]),
            ("image-folder", "root/<class>/<image>.png|jpg|jpeg trees: two folders, or one split by a seeded ratio", [
                .optional("train_dir", .string, default: nil, "training tree (with test_dir)", [.folderExists]),
                .optional("test_dir", .string, default: nil, "test tree (with train_dir)", [.folderExists]),
                .optional("root", .string, default: nil, "one tree split per class by test_ratio (instead of train_dir/test_dir)", [.folderExists]),
                .optional("test_ratio", .number, default: nil, "share of each class's images that go to the test split (with root)", [.range(0, 1, openLo: true, openHi: true)]),
            ]),
        ],
        checks: [datasetChecks])

    static func datasetChecks(_ d: JSON) -> [ManifestIssue] {
        var issues: [ManifestIssue] = []
        switch d["format"]?.stringValue {
        case "fashion-mnist":
            let root = d["root"]?.stringValue ?? fashionMNISTRoot
            for f in fashionMNISTFiles where !Rule.fileExists.check(.string(root + "/" + f)) {
                issues.append(ManifestIssue(path: "root", rule: "\(root)/\(f) not found (install the Debian package dataset-fashion-mnist)"))
            }
        case "image-folder":
            let two = d["train_dir"] != nil || d["test_dir"] != nil
            let one = d["root"] != nil || d["test_ratio"] != nil
            if two && one {
                issues.append(ManifestIssue(path: "root", rule: "give either train_dir and test_dir, or root and test_ratio, not both"))
            } else if two {
                if d["train_dir"] == nil { issues.append(ManifestIssue(path: "train_dir", rule: "is required with test_dir")) }
                if d["test_dir"] == nil { issues.append(ManifestIssue(path: "test_dir", rule: "is required with train_dir")) }
            } else if one {
                if d["root"] == nil { issues.append(ManifestIssue(path: "root", rule: "is required with test_ratio")) }
                if d["test_ratio"] == nil { issues.append(ManifestIssue(path: "test_ratio", rule: "is required with root")) }
            } else {
                issues.append(ManifestIssue(path: "train_dir", rule: "image-folder needs train_dir and test_dir, or root and test_ratio"))
            }
            for k in ["channels", "height", "width"] where d[k] == nil {
                issues.append(ManifestIssue(path: k, rule: "is required for image-folder (the size every image is stored at)"))
            }
        default: break
        }
        return issues
    }

    static let ingest = Section(
        doc: "The ingest stage: reads the dataset and stores it as .npy arrays plus dataset.json.",
        fields: [
            .optional("preview", .integer, default: .number(8), "number of training images also written as PNG, for a look", [.range(0, 1000)]),
            .optional("preview_folder", .string, default: .string("preview"), "sub-folder of the ingest stage for the preview PNGs", [.insideRunFolder]),
        ])

    static let root = Section(
        doc: "A run of the pipeline.",
        fields: [
            .required("name", .string, "the run's name", [.identifier]),
            .optional("seed", .integer, default: .number(0), "seed of every random choice (subsets, splits, poisoning, initialisation, shuffling)", [.range(0, 4_294_967_295)]),
            .optional("output", .string, default: nil, "the run folder; default runs/<name>", [.nonEmpty]),
            .required("dataset", .object(dataset), "the dataset section"),
            .optional("ingest", .object(ingest), default: .object([:]), "the ingest stage's section"),
        ])
}
