import ABLNet
import Foundation
import PoisonForge
import Sanitizer

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
            .required("format", .choices(DatasetConfig.Format.self),
                      "reader: the Debian Fashion-MNIST, any IDX pair (MNIST layout), CIFAR binary batches, or an ImageFolder tree"),
            .optional("channels", .integer, default: nil,
                      "channels to store (1 or 3); gray is replicated to RGB, RGB is converted to luma. Default: the source's", [Rule(text: "must be 1 or 3") { [1, 3].contains($0.intValue ?? 0) }]),
            .optional("height", .integer, default: nil, "image height to store; default: the source's", [.range(1, 4096)]),
            .optional("width", .integer, default: nil, "image width to store; default: the source's", [.range(1, 4096)]),
            .optional("size_policy", .choice(["resize", "reject"]), default: .string("resize"),
                      "images of another size than height x width are resized (bilinear, half-pixel centres) or rejected"),
            .optional("class_names", .stringArray, default: nil, "class names overriding the reader's", [.nonEmpty, .distinct]),
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

    static let attack = Section(
        doc: "The backdoor attack the poison stage applies (ABL-METHOD.md §3). Attacks marked \"surrogate\" train against the clean model of the surrogate stage.",
        fields: [
            .required("kind", .choices(AttackKind.self), "the attack"),
            .optional("target", .integer, default: .number(0), "the target class (all-to-one)", [.range(0, nil)]),
        ],
        discriminator: "kind",
        variants: [
            ("badnets", "BadNets: a pixel patch on every channel, dirty-label", [
                dirtyRate, targetMode,
                .optional("patch_size", .integer, default: .number(3), "side of the square patch in pixels", [.range(1, 64)]),
                .optional("pattern", .choice(["reference", "checkerboard", "white"]), default: .string("reference"),
                          "reference: the ABL code's 3x3 grid [[0,0,255],[0,255,0],[255,0,255]] (size 3 only); checkerboard; white"),
                .optional("corner", .choices(BadNets.Corner.self), default: .string("bottom-right"), "where the patch sits"),
                .optional("margin", .integer, default: .number(0), "pixels between the patch and the image border", [.range(0, 64)]),
            ]),
            ("trojan", "Trojan (TrojanNN trigger): a patch optimised on the surrogate so that the most strongly connected penultimate neurons fire; dirty-label; surrogate", [
                dirtyRate, targetMode,
                .optional("patch_size", .integer, default: .number(3), "side of the square patch in pixels", [.range(1, 64)]),
                .optional("margin", .integer, default: .number(4), "pixels between the patch and the bottom-right border", [.range(0, 64)]),
                .optional("neurons", .integer, default: .number(2), "how many feature channels the patch drives", [.range(1, 4096)]),
                .optional("activation_gain", .number, default: .number(10), "goal activation = this x the channel's largest clean activation", [.range(0, nil, openLo: true)]),
                optSteps(200), optBatch, optLR(0.05),
            ]),
            ("blend", "Blend: (1 - alpha) x + alpha key, dirty-label", [
                dirtyRate, targetMode,
                .optional("alpha", .number, default: .number(0.2), "blend weight of the key", [.range(0, 1, openLo: true)]),
                .optional("key", .choices(BlendParameters.Key.self), default: .string("noise"),
                          "noise: one seeded uniform-noise key; noise-per-image: fresh noise for every image (the ABL reference code); image: key_image"),
                .optional("key_image", .string, default: nil, "PNG or JPEG key (resized to the input, converted to its channels); with key \"image\"", [.fileExists, .imageReadable]),
            ]),
            ("dynamic", "Dynamic (input-aware): pattern and mask generators trained against the surrogate; every image gets its own trigger; dirty-label; surrogate", [
                dirtyRate,
                .optional("density", .number, default: .number(0.032), "mask density the norm term allows", [.range(0, 1, openLo: true)]),
                .optional("lambda_diversity", .number, default: .number(1), "weight of the diversity term", [.range(0, nil)]),
                .optional("lambda_norm", .number, default: .number(100), "weight of the mask-density term", [.range(0, nil)]),
                optSteps(300), optBatch,
                .optional("generator_lr", .number, default: .number(0.01), "SGD learning rate of the generators", [.range(0, 10, openLo: true)]),
                .optional("hidden", .integer, default: .number(16), "channels of the generators' hidden layers", [.range(1, 256)]),
            ]),
            ("sig", "SIG: additive vertical sinusoid delta sin(2 pi j f / width), clean-label", [
                cleanRate(0.8), rateOf,
                .optional("delta", .number, default: .number(40), "amplitude in pixel levels", [.range(0, 255, openLo: true)]),
                .optional("frequency", .number, default: .number(6), "periods across the width", [.range(0, nil, openLo: true)]),
            ]),
            ("cl", "CL (label-consistent): PGD on the surrogate makes target-class images hard, then a checkerboard in all four corners; clean-label; surrogate", [
                cleanRate(0.5), rateOf,
                .optional("epsilon", .number, default: .number(8), "L-inf budget in pixel levels (8 = 8/255)", [.range(0, 255)]),
                .optional("step", .number, default: .number(1.5), "PGD step in pixel levels", [.range(0, 255, openLo: true)]),
                .optional("steps", .integer, default: .number(100), "PGD steps", [.range(0, 1000)]),
                .optional("patch_size", .integer, default: .number(3), "side of each corner checkerboard", [.range(1, 32)]),
            ]),
            ("fc", "FC (feature collision, hidden-trigger style): target-class images perturbed so their surrogate features collide with patched non-target images; clean-label; surrogate", [
                cleanRate(0.5), rateOf,
                .optional("epsilon", .number, default: .number(16), "L-inf budget in pixel levels", [.range(0, 255)]),
                .optional("step", .number, default: .number(2), "PGD step in pixel levels", [.range(0, 255, openLo: true)]),
                .optional("steps", .integer, default: .number(50), "PGD steps", [.range(0, 1000)]),
                .optional("patch_size", .integer, default: .number(4), "side of the test-time patch (bottom-right)", [.range(1, 64)]),
                .optional("pattern", .choice(["checkerboard", "white"]), default: .string("checkerboard"), "the patch's pattern"),
            ]),
            ("dfst", "DFST (colour/texture-style variant): (1 - alpha) x + alpha style(x) toward a generated sunrise; dirty-label", [
                dirtyRate, targetMode,
                .optional("alpha", .number, default: .number(0.6), "blend weight of the stylised image", [.range(0, 1, openLo: true)]),
                .optional("texture", .number, default: .number(1), "weight of the sunrise's high-pass texture", [.range(0, 10)]),
            ]),
            ("lba", "LBA (latent backdoor): a patch optimised so triggered images' surrogate features match the target class's mean; dirty-label; surrogate", [
                dirtyRate,
                .optional("patch_fraction", .number, default: .number(0.2), "patch side as a fraction of the width (bottom-right)", [.range(0, 1, openLo: true)]),
                optSteps(200), optBatch, optLR(0.05),
            ]),
            ("cba", "CBA (composite): half an image of class A joined to half of class B, labelled as the target; same-class mixes keep their label; dirty-label", [
                dirtyRate,
                .optional("class_a", .integer, default: .number(1), "the first source class", [.range(0, nil)]),
                .optional("class_b", .integer, default: .number(2), "the second source class", [.range(0, nil)]),
                .optional("mix_rate", .number, default: .number(0.05), "share of the training set rewritten as same-class mixes (labels kept)", [.range(0, 1, openHi: true)]),
                .optional("jitter", .integer, default: .number(3), "largest shift in pixels of the partner's half", [.range(0, 16)]),
            ]),
        ],
        checks: [attackChecks])

    static let dirtyRate = Field.optional("rate", .number, default: .number(0.1), "share of the training set that is poisoned", [.range(0, 1, openLo: true, openHi: true)])
    static let targetMode = Field.optional("mode", .choice(["all-to-one", "all-to-all"]), default: .string("all-to-one"), "all-to-one: every poisoned sample to `target`; all-to-all: class y to (y + 1) mod K")
    static func cleanRate(_ d: Double) -> Field {
        .optional("rate", .number, default: .number(d), "share of `rate_of` that is poisoned (only target-class images are)", [.range(0, 1, openLo: true)])
    }
    static let rateOf = Field.optional("rate_of", .choices(RateBase.self), default: .string("target-class"),
                                       "what `rate` counts: target-class (the label-consistent paper) or training-set (BackdoorBench's pratio)")
    static func optSteps(_ d: Int) -> Field { .optional("steps", .integer, default: .number(Double(d)), "optimisation steps", [.range(1, 100000)]) }
    static let optBatch = Field.optional("batch", .integer, default: .number(64), "images per optimisation step", [.range(1, 4096)])
    static func optLR(_ d: Double) -> Field { .optional("step_lr", .number, default: .number(d), "Adam step size on the patch's [0, 1] values", [.range(0, 10, openLo: true)]) }

    static func attackChecks(_ a: JSON) -> [ManifestIssue] {
        var issues: [ManifestIssue] = []
        if a["pattern"]?.stringValue == "reference" && a["patch_size"]?.intValue != 3 {
            issues.append(ManifestIssue(path: "pattern", rule: "the reference pattern is 3x3: set patch_size to 3 or choose checkerboard or white"))
        }
        if a["kind"]?.stringValue == "blend" {
            if a["key"]?.stringValue == "image", a["key_image"] == nil { issues.append(ManifestIssue(path: "key_image", rule: "is required with key \"image\"")) }
            if a["key"]?.stringValue != "image", a["key_image"] != nil { issues.append(ManifestIssue(path: "key_image", rule: "is only read with key \"image\"")) }
        }
        if a["kind"]?.stringValue == "cba" {
            let t = a["target"]?.intValue
            if a["class_a"]?.intValue == a["class_b"]?.intValue { issues.append(ManifestIssue(path: "class_b", rule: "must differ from class_a")) }
            for k in ["class_a", "class_b"] where a[k]?.intValue == t { issues.append(ManifestIssue(path: k, rule: "must differ from the target class")) }
        }
        return issues
    }

    static let surrogate = Section(
        doc: "The surrogate stage: a clean model trained on the clean training set, for the attacks that optimise against one (trojan, dynamic, cl, fc, lba). Optimiser settings come from `model`.",
        fields: [
            .optional("architecture", .choices(Architecture.self), default: .string("wrn-16-1"), "the surrogate's network"),
            .optional("epochs", .integer, default: .number(5), "training epochs", [.range(1, 1000)]),
            .optional("lr", .number, default: .number(0.1), "learning rate", [.range(0, 10, openLo: true)]),
            .optional("lr_drop", .integer, default: .number(4), "after this many epochs the learning rate is multiplied by 0.1; 0: never", [.range(0, 1000)]),
            .optional("augment", .boolean, default: .bool(false), "random crop (4) + flip + cutout (1x3)"),
            .optional("train_limit", .integer, default: nil, "train on a seeded subset of this many clean training images (all when absent)", [.range(1, nil)]),
            .optional("checkpoint", .string, default: nil, "use this safetensors model (of `architecture`, PyTorch names) instead of training one; its shapes must fit the dataset", [.fileExists]),
        ])

    static let model = Section(
        doc: "The network and optimiser every training stage uses.",
        fields: [
            .optional("architecture", .choices(Architecture.self), default: .string("wrn-16-1"), "the network (WRN-16-1 is the paper's)"),
            .optional("batch_size", .integer, default: .number(128), "mini-batch size", [.range(1, 65536)]),
            .optional("momentum", .number, default: .number(0.9), "SGD momentum", [.range(0, 1, openHi: true)]),
            .optional("nesterov", .boolean, default: .bool(true), "Nesterov momentum"),
            .optional("weight_decay", .number, default: .number(1e-4), "L2 weight decay", [.range(0, 1)]),
            .optional("input_channels", .integer, default: nil, "if given, must equal the dataset's channels (a guard for shared manifests)", [.range(1, 3)]),
            .optional("threads", .integer, default: nil, "worker threads (default: every core)", [.range(1, 256)]),
        ])

    static let isolate = Section(
        doc: "ABL stage 1: train with LGA from scratch, then isolate the lowest-loss samples.",
        fields: [
            .optional("epochs", .integer, default: .number(10), "T_te, LGA training epochs (reference code: 10, paper: 20)", [.range(1, 1000)]),
            .optional("lr", .number, default: .number(0.1), "learning rate", [.range(0, 10, openLo: true)]),
            .optional("gamma", .number, default: .number(0.5), "LGA loss threshold", [.range(0, nil, openLo: true)]),
            .optional("granularity", .choices(LGAGranularity.self), default: .string("batch"),
                      "batch: sign(mean loss - gamma) * mean loss (reference code); sample: per sample (paper); flooding: the reference's name for batch"),
            .optional("shuffle", .boolean, default: .bool(false), "shuffle every epoch (the reference does not)"),
            .optional("augment", .boolean, default: .bool(false), "random crop (4) + flip + cutout (1x3)"),
            .optional("ratio", .number, default: .number(0.01), "p, the fraction of the training set isolated", [.range(0, 1, openLo: true, openHi: true)]),
            .optional("strategy", .choices(IsolationStrategy.self), default: .string("lowest-loss"),
                      "lowest-loss: the reference; target-aware: infer the target class from the lowest losses and isolate only samples of that label"),
            .optional("target_statistic", .choices(TargetStatistic.self), default: .string("separation"),
                      "target-aware only, how the target label is inferred (this project's variants): separation, the label whose log-losses split into two modes far apart and narrow (a two-component Gaussian mixture; the gap between the means times the gap in pooled standard deviations); mode-gap, the label whose two modes lie furthest apart, which an easy clean class with a broad low tail can win (Bags under full-scale Blend); spread, the label with the widest log(median / 5th percentile), which fails once more than half the target label is poisoned (clean-label attacks)"),
            .optional("max_ratio", .number, default: nil,
                      "adaptive isolation (target-aware only, this project's variant): isolate every sample of the inferred target label in the low-loss mode of a two-component Gaussian mixture on its log-losses, at least `ratio` and at most this fraction of the training set; absent: exactly `ratio`",
                      [.range(0, 1, openLo: true, openHi: true)]),
            .optional("target", .integer, default: nil,
                      "target-aware only: the target label when it is known or suspected (a benchmark, or an auditor following the report's label-count line); the statistics are still computed and reported, but this label is isolated; absent: inferred",
                      [.range(0, nil)]),
        ],
        checks: [{ i in
            var issues: [ManifestIssue] = []
            if i["target"] != nil, i["strategy"]?.stringValue != "target-aware" {
                issues.append(ManifestIssue(path: "target", rule: "a given target needs strategy \"target-aware\""))
            }
            guard let mr = i["max_ratio"]?.doubleValue else { return issues }
            if i["strategy"]?.stringValue != "target-aware" { issues.append(ManifestIssue(path: "max_ratio", rule: "adaptive isolation needs strategy \"target-aware\"")) }
            if let r = i["ratio"]?.doubleValue, mr < r { issues.append(ManifestIssue(path: "max_ratio", rule: "must be at least ratio (\(JSON.formatNumber(r)))")) }
            return issues
        }])

    static let export = Section(
        doc: "The hand-off folder for auditors: the isolated samples as CSV, JSON and PNG.",
        fields: [
            .optional("folder", .string, default: .string("isolated"), "sub-folder of the export stage", [.insideRunFolder]),
            .optional("png", .boolean, default: .bool(true), "write every isolated image as PNG"),
        ])

    static let unlearn = Section(
        doc: "ABL stage 2: fine-tune on the rest and unlearn the isolated samples.",
        fields: [
            .optional("mode", .choices(UnlearnConfig.Mode.self), default: .string("sequential"),
                      "sequential: fine-tune, then pure ascent (the reference code); joint: every fine-tune step also ascends on isolated samples (the paper's objective)"),
            .optional("finetune_epochs", .integer, default: .number(60), "fine-tuning epochs on the rest (joint: epochs of the joint objective)", [.range(0, 1000)]),
            .optional("finetune_lr", .number, default: .number(0.1), "fine-tuning learning rate", [.range(0, 10, openLo: true)]),
            .optional("finetune_lr_drop", .integer, default: .number(40), "after this many fine-tuning epochs the learning rate is multiplied by 0.1 (as MultiStepLR with one milestone); 0: never", [.range(0, 1000)]),
            .optional("finetune_augment", .boolean, default: .bool(true), "augment while fine-tuning (crop 4, flip, cutout 1x3)"),
            .optional("epochs", .integer, default: .number(5), "T_ul, epochs of gradient ascent on the isolated samples", [.range(0, 1000)]),
            .optional("lr", .number, default: .number(5e-4), "ascent learning rate", [.range(0, 10, openLo: true)]),
            .optional("augment", .boolean, default: .bool(false), "augment during the ascent"),
            .optional("lambda", .number, default: .number(1), "joint: weight of the isolated samples' loss", [.range(0, nil, openLo: true)]),
            .optional("objective", .choices(UnlearnConfig.ObjectiveKind.self), default: .string("ascent"),
                      "ascent: gradient ascent on the isolated samples' loss (the paper); flatten: move their predictions toward the uniform distribution; complement: push them away from the label they were given by minimising -log(1 - p(label)) (both this project's variants: their gradients do not vanish on confidently fitted samples, and they stop by themselves)"),
            .optional("ascent_cap", .number, default: nil, "bounded ascent (this project's variant, not the paper's): isolated samples whose loss exceeds this get no further ascent, e.g. ln(classes) = chance level; absent: unbounded, as the reference", [.range(0, nil, openLo: true)]),
            .optional("freeze_bn", .boolean, default: .bool(false), "normalise with the running statistics during the ascent and leave them unchanged"),
            .optional("stop_isolated_accuracy", .number, default: nil, "stop the ascent once the model's accuracy on the isolated samples (labels as given) is at or below this", [.range(0, 1)]),
        ])

    static let baseline = Section(
        doc: "Standard training without a defense, on the poisoned set (and, if asked, on the clean set).",
        fields: [
            .optional("epochs", .integer, default: .number(60), "training epochs", [.range(1, 1000)]),
            .optional("lr", .number, default: .number(0.1), "learning rate", [.range(0, 10, openLo: true)]),
            .optional("lr_drop", .integer, default: .number(40), "after this many epochs the learning rate is multiplied by 0.1; 0: never", [.range(0, 1000)]),
            .optional("augment", .boolean, default: .bool(true), "random crop (4) + flip + cutout (1x3)"),
            .optional("clean", .boolean, default: .bool(false), "also train the clean-model reference on the unpoisoned set"),
        ])

    static let report = Section(
        doc: "The report stage: report.json and report.md in the run folder's report stage.",
        fields: [
            .optional("title", .string, default: nil, "a title for the report (default: the run's name)"),
        ])

    static let root = Section(
        doc: "A run of the pipeline.",
        fields: [
            .required("name", .string, "the run's name", [.identifier]),
            .optional("seed", .integer, default: .number(0), "seed of every random choice (subsets, splits, poisoning, initialisation, shuffling)", [.range(0, 4_294_967_295)]),
            .optional("output", .string, default: nil, "the run folder; default runs/<name>", [.nonEmpty, .notAFile]),
            .required("dataset", .object(dataset), "the dataset section"),
            .optional("ingest", .object(ingest), default: .object([:]), "the ingest stage's section"),
            .optional("attack", .object(attack), default: nil, "the attack; without it the run stops after ingest"),
            .optional("surrogate", .object(surrogate), default: .object([:]), "the clean model the optimised attacks use (only trained when the attack needs it)"),
            .optional("model", .object(model), default: .object([:]), "network and optimiser"),
            .optional("isolate", .object(isolate), default: .object([:]), "ABL isolation"),
            .optional("export", .object(export), default: .object([:]), "the auditor hand-off"),
            .optional("unlearn", .object(unlearn), default: .object([:]), "ABL unlearning"),
            .optional("baseline", .object(baseline), default: .object([:]), "the no-defense (and clean) reference training"),
            .optional("report", .object(report), default: .object([:]), "the report"),
        ],
        checks: [crossChecks])
}


extension ManifestSchema {
    /// Rules across sections that need facts about the dataset (class count, training size),
    /// read cheaply from the manifest or the label files.
    static func crossChecks(_ m: JSON) -> [ManifestIssue] {
        guard let attackJSON = m["attack"] else { return [] }
        // every section is valid here (cross checks run only then), so the typed attack decodes
        let attack = RunConfig.decodeSection(AttackConfig.self, attackJSON)
        var issues: [ManifestIssue] = []
        let facts = DatasetFacts.probe(m["dataset"] ?? .null)
        if let k = facts.classCount, let t = m["attack"]?["target"]?.intValue, t >= k {
            issues.append(ManifestIssue(path: "attack.target", rule: "class \(t) does not exist: the dataset has \(k) classes (0..<\(k))"))
        }
        if let k = facts.classCount, let t = m["isolate"]?["target"]?.intValue, t >= k {
            issues.append(ManifestIssue(path: "isolate.target", rule: "class \(t) does not exist: the dataset has \(k) classes (0..<\(k))"))
        }
        if m["isolate"]?["strategy"]?.stringValue == "target-aware", m["attack"]?["mode"]?.stringValue == "all-to-all" {
            issues.append(ManifestIssue(path: "isolate.strategy", rule: "target-aware isolation assumes an all-to-one backdoor, but attack.mode is all-to-all: use lowest-loss"))
        }
        if let k = facts.classCount, let a = m["attack"] {
            for key in ["class_a", "class_b"] {
                if let c = a[key]?.intValue, c >= k { issues.append(ManifestIssue(path: "attack." + key, rule: "class \(c) does not exist: the dataset has \(k) classes (0..<\(k))")) }
            }
        }
        if let h = facts.height, let w = facts.width, let need = attack?.triggerExtent, need > min(h, w) {
            issues.append(ManifestIssue(path: "attack.patch_size", rule: "the trigger needs \(need) pixels but the images are \(h)x\(w)"))
        }
        if attack?.kind.needsSurrogate == true, let path = m["surrogate"]?["checkpoint"]?.stringValue, let c = facts.channels, let k = facts.classCount,
           FileManager.default.fileExists(atPath: path) {
            let arch = m["surrogate"].flatMap { RunConfig.decodeSection(SurrogateConfig.self, $0) }?.architecture ?? .wrn16_1
            do { try SafeTensors.load(into: arch.build(inputChannels: c, numClasses: k, seed: 0), from: path) } catch {
                issues.append(ManifestIssue(path: "surrogate.checkpoint", rule: "does not fit a \(arch.rawValue) for \(c)-channel input and \(k) classes: \(error)"))
            }
        }
        if let c = m["model"]?["input_channels"]?.intValue, let dc = facts.channels, c != dc {
            issues.append(ManifestIssue(path: "model.input_channels", rule: "the model takes \(c) channels but the dataset has \(dc)"))
        }
        if let n = facts.trainCount {
            if let p = m["isolate"]?["ratio"]?.doubleValue, (p * Double(n)).rounded() < 1 {
                issues.append(ManifestIssue(path: "isolate.ratio", rule: "isolates no sample of \(n) training images"))
            }
            if let r = m["attack"]?["rate"]?.doubleValue, (r * Double(n)).rounded() < 1 {
                issues.append(ManifestIssue(path: "attack.rate", rule: "poisons no sample of \(n) training images"))
            }
            if let r = m["attack"]?["rate"]?.doubleValue, let k = facts.classCount, m["attack"]?["mode"]?.stringValue != "all-to-all",
               attack?.kind.isCleanLabel == false, r > 1 - 1 / Double(k) {
                issues.append(ManifestIssue(path: "attack.rate", rule: "must be below \(JSON.formatNumber(1 - 1 / Double(k))): a dirty-label all-to-one attack can only poison samples outside the target class"))
            }
        }
        return issues
    }
}
