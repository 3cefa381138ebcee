import ABLNet
import CanonicalJSON
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
                      "reader: the Debian Fashion-MNIST, any IDX pair (MNIST layout), numpy .npy arrays, CIFAR binary batches, or an ImageFolder tree"),
            .optional("channels", .integer, default: nil,
                      "channels to store (1 or 3); gray is replicated to RGB, RGB is converted to luma. Default: the source's", [Rule(text: "must be 1 or 3") { [1, 3].contains($0.intValue ?? 0) }]),
            .optional("height", .integer, default: nil, "image height to store; default: the source's", [.range(1, 4096)]),
            .optional("width", .integer, default: nil, "image width to store; default: the source's", [.range(1, 4096)]),
            .optional("size_policy", .choice(["resize", "reject"]), default: .string("resize"),
                      "images of another size than height x width are resized (bilinear, half-pixel centres) or rejected"),
            .optional("class_names", .stringArray, default: nil, "class names overriding the reader's", [.nonEmpty, .distinct]),
            .optional("train_limit", .integer, default: nil, "keep a seeded random subset of this many training images (all when absent)", [.range(1, nil)]),
            .optional("test_limit", .integer, default: nil, "keep a seeded random subset of this many test images (all when absent)", [.range(1, nil)]),
            .optional("poison_indicator", .string, default: nil,
                      "data you bring (no attack section): a .npy of one boolean per row of the training data as given, or of the poisoned rows' indices (rows before test_ratio's split and train_limit; an image folder's images sorted by class folder, then file name); with it the report gives the isolated set's precision and recall",
                      [.fileExists]),
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
            ("npy", "numpy .npy arrays: images uint8 N,H,W or N,H,W,C (C = 1 or 3), labels of any integer dtype, shape N", [
                .required("train_images", .string, ".npy of training images", [.fileExists]),
                .required("train_labels", .string, ".npy of training labels", [.fileExists]),
                .optional("test_images", .string, default: nil, ".npy of test images (with test_labels): a trusted clean test set, the reference detection judges the training set against", [.fileExists]),
                .optional("test_labels", .string, default: nil, ".npy of test labels (with test_images)", [.fileExists]),
                .optional("test_ratio", .number, default: nil, "instead of a test pair: this share of each class's training rows becomes the test split (seeded). Such a test set holds poison in the same share as the training set, so detection has no clean reference (docs/SANITIZE.md)", [.range(0, 1, openLo: true, openHi: true)]),
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
        case "npy":
            let pair = d["test_images"] != nil || d["test_labels"] != nil
            if pair && d["test_ratio"] != nil {
                issues.append(ManifestIssue(path: "test_ratio", rule: "give either test_images and test_labels, or test_ratio, not both"))
            } else if pair {
                if d["test_images"] == nil { issues.append(ManifestIssue(path: "test_images", rule: "is required with test_labels")) }
                if d["test_labels"] == nil { issues.append(ManifestIssue(path: "test_labels", rule: "is required with test_images")) }
            } else if d["test_ratio"] == nil {
                issues.append(ManifestIssue(path: "test_images", rule: "npy needs test_images and test_labels (a trusted clean test set), or test_ratio"))
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

    /// The attack section: the fields every attack has, and each registered attack's own as a variant.
    static let attack = Section(
        doc: "The backdoor attack the poison stage applies (ABL-METHOD.md §3). Attacks marked \"surrogate\" train against the clean model of the surrogate stage.",
        fields: [
            .required("kind", .choice(AttackCatalog.kinds), "the attack"),
            .optional("target", .integer, default: .number(0), "the target class (all-to-one)", [.range(0, nil)]),
        ],
        discriminator: "kind",
        variants: AttackCatalog.all.map { ($0.kind, $0.doc, $0.fields) },
        checks: [{ a in AttackCatalog.descriptor(a["kind"]?.stringValue ?? "").map { d in d.checks.flatMap { $0(a) } } ?? [] }])

    /// Ground truth for a run on data the user brings: a triggered test set, for ASR and RA.
    static let evaluation = Section(
        doc: "Data you bring (no attack section): a triggered test set that measures the backdoor, for ASR, RA and DER. Either your own triggered images, or a trigger from the attack catalogue stamped on the test set (for evaluation only; the training set is left as given).",
        fields: [
            .required("source", .choices(EvaluationConfig.Source.self), "npy: triggered images you supply; attack: stamp an attack's trigger on the test set"),
        ],
        discriminator: "source",
        variants: [
            ("npy", "triggered images you supply", [
                .required("triggered_images", .string, ".npy of triggered images (uint8, N,H,W or N,H,W,C), stored at the dataset's size", [.fileExists]),
                .required("target", .integer, "the label the backdoor sends them to", [.range(0, nil)]),
                .optional("true_labels", .string, default: nil,
                          ".npy of the images' true labels (any integer dtype): images of the target class are then left out of ASR, and RA is measured; absent: ASR counts every image and RA is absent", [.fileExists]),
            ]),
            ("attack", "a trigger from the catalogue, stamped on every non-target test image", [
                .required("attack", .object(attack), "an attack section (its rate is not used); the attack's trigger must be a fixed function of the image (badnets, blend, sig, dfst)"),
            ]),
        ])

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
            .optional("shards", .integer, default: nil, "split every training batch into this many shards, summed in a fixed order: one process runs them as threads, `mpirun -np <shards>` as ranks, with the same bits (docs/SCALING.md)", [.range(1, 1024)]),
        ])

    static let isolate = Section(
        doc: "ABL stage 1: train with LGA from scratch, then isolate the lowest-loss samples.",
        fields: [
            .optional("epochs", .integer, default: .number(10), "T_te, LGA training epochs (reference code: 10, paper: 20)", [.range(1, 1000)]),
            .optional("lr", .number, default: .number(0.1), "learning rate", [.range(0, 10, openLo: true)]),
            .optional("gamma", .number, default: .number(0.5), "LGA loss threshold", [.range(0, 100, openLo: true)]),
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
            .optional("detection", .choices(Detection.Mode.self), default: .string("test-reference"),
                      "test-reference: before isolating, judge whether the training set holds a backdoor by comparing each label's training losses with its test losses (docs/DETECTION.md); a found backdoor's label is the target target-aware isolation takes; off: no verdict, the loss statistics choose the target and isolation always runs. Without at least 3 labels having 20 training and 10 test samples there is no verdict"),
            .optional("when_clean", .choices(Detection.WhenClean.self), default: .string("isolate-nothing"),
                      "what a \"no backdoor\" verdict does: isolate-nothing (unlearning then trains an ordinary model) or isolate-anyway (isolate as with detection off)"),
            .optional("rank_by", .choices(IsolationRanking.self), default: .string("detection-signal"),
                      "target-aware only, which samples of the target label are isolated: detection-signal, when the verdict found the target by its feature signal, the samples farthest from the label's test samples in the isolation model's features, every one beyond the verdict's threshold, between ratio and max_ratio of the training set (this project's variant; docs/DETECTION.md), else as loss; loss, those with the lowest loss (with max_ratio: below the boundary of their two-mode mixture)"),
            .optional("false_positive_rate", .number, default: .number(1e-4),
                      "the chance the verdict calls a clean training set backdoored (exact hypergeometric tail per label, signal and threshold, Bonferroni over all)", [.range(0, 0.5, openLo: true)]),
            .optional("min_excess", .number, default: .number(0.05),
                      "the least excess share of a label's training samples below a loss, over its test samples, that counts as a backdoor", [.range(0, 1, openHi: true)]),
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
            .optional("lambda", .number, default: .number(1), "joint: weight of the isolated samples' loss", [.range(0, 1000, openLo: true)]),
            .optional("objective", .choices(UnlearnConfig.ObjectiveKind.self), default: .string("ascent"),
                      "ascent: gradient ascent on the isolated samples' loss (the paper); flatten: move their predictions toward the uniform distribution; complement: push them away from the label they were given by minimising -log(1 - p(label)) (both this project's variants: their gradients do not vanish on confidently fitted samples, and they stop by themselves)"),
            .optional("ascent_cap", .number, default: nil, "bounded ascent (this project's variant, not the paper's): isolated samples whose loss exceeds this get no further ascent, e.g. ln(classes) = chance level; absent: unbounded, as the reference", [.range(0, 1000, openLo: true)]),
            .optional("freeze_bn", .boolean, default: .bool(false), "normalise with the running statistics during the ascent and leave them unchanged"),
            .optional("stop_isolated_accuracy", .number, default: nil, "stop the ascent once the model's accuracy on the isolated samples (labels as given) is at or below this", [.range(0, 1)]),
            .optional("quarantine", .number, default: .number(0), "this project's variant: leave out of fine-tuning this fraction of the isolated count more samples of the isolated label, those with the lowest isolation loss outside the isolated set (the margin where the isolation's misses sit; quarantined.npy); 0: none", [.range(0, 10)]),
        ])

    static let baseline = Section(
        doc: "Standard training without a defense, on the poisoned set (and, if asked, on the clean set).",
        fields: [
            .optional("epochs", .integer, default: .number(60), "training epochs", [.range(1, 1000)]),
            .optional("lr", .number, default: .number(0.1), "learning rate", [.range(0, 10, openLo: true)]),
            .optional("lr_drop", .integer, default: .number(40), "after this many epochs the learning rate is multiplied by 0.1; 0: never", [.range(0, 1000)]),
            .optional("augment", .boolean, default: .bool(true), "random crop (4) + flip + cutout (1x3)"),
            .optional("clean", .boolean, default: .bool(false), "also train the clean-model reference on the unpoisoned set (runs with an attack section)"),
            .optional("no_defense", .boolean, default: nil, "train the no-defense model on the training set as given; absent: with an attack section, or with an evaluation section (DER needs it)"),
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
            .optional("attack", .object(attack), default: nil, "the attack; without it ABL runs on the dataset as given (data you bring)"),
            .optional("evaluation", .object(evaluation), default: nil, "data you bring: a triggered test set for ASR, RA and DER"),
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
        guard let attackJSON = m["attack"] else { return givenDataChecks(m) }
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
        if let h = facts.height, let w = facts.width, let need = attack?.parameters.triggerExtent, need > min(h, w) {
            issues.append(ManifestIssue(path: "attack.patch_size", rule: "the trigger needs \(need) pixels but the images are \(h)x\(w)"))
        }
        if attack?.descriptor.needsSurrogate == true, let path = m["surrogate"]?["checkpoint"]?.stringValue, let c = facts.channels, let k = facts.classCount,
           (1...4).contains(c), k >= 1, FileManager.default.fileExists(atPath: path) {
            let arch = m["surrogate"].flatMap { RunConfig.decodeSection(SurrogateConfig.self, $0) }?.architecture ?? .wrn16_1
            do { try SafeTensors.load(into: arch.build(inputChannels: c, numClasses: k, seed: 0, engine: EngineSettings()), from: path) } catch ABLNetError.checkpointFormat(let p, let reason) {
                // a file that is no valid checkpoint at all: say what is wrong with it
                issues.append(ManifestIssue(path: "surrogate.checkpoint", rule: ABLNetError.checkpointFormat(path: p, reason: reason).description))
            } catch {
                issues.append(ManifestIssue(path: "surrogate.checkpoint", rule: "does not fit a \(arch.rawValue) for \(c)-channel input and \(k) classes: \(error)"))
            }
        }
        if m["dataset"]?["poison_indicator"] != nil {
            issues.append(ManifestIssue(path: "dataset.poison_indicator", rule: "is for data you bring: with an attack section the poison stage knows which samples it poisoned"))
        }
        if m["evaluation"] != nil {
            issues.append(ManifestIssue(path: "evaluation", rule: "is for data you bring: with an attack section the poison stage builds the triggered test set"))
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
               attack?.descriptor.labelKind == .dirty, r > 1 - 1 / Double(k) {
                issues.append(ManifestIssue(path: "attack.rate", rule: "must be below \(JSON.formatNumber(1 - 1 / Double(k))): a dirty-label all-to-one attack can only poison samples outside the target class"))
            }
        }
        return issues
    }
}

extension ManifestSchema {
    /// Rules for a run without an attack section (data the user brings).
    static func givenDataChecks(_ m: JSON) -> [ManifestIssue] {
        var issues: [ManifestIssue] = []
        let facts = DatasetFacts.probe(m["dataset"] ?? .null)
        if m["baseline"]?["clean"]?.boolValue == true {
            issues.append(ManifestIssue(path: "baseline.clean", rule: "needs an attack section: without one there is no known clean training set"))
        }
        if let k = facts.classCount {
            for (path, t) in [("isolate.target", m["isolate"]?["target"]?.intValue), ("evaluation.target", m["evaluation"]?["target"]?.intValue),
                              ("evaluation.attack.target", m["evaluation"]?["attack"]?["target"]?.intValue)] {
                if let t, t >= k { issues.append(ManifestIssue(path: path, rule: "class \(t) does not exist: the dataset has \(k) classes (0..<\(k))")) }
            }
        }
        if let a = m["evaluation"]?["attack"], let config = RunConfig.decodeSection(AttackConfig.self, a) {
            let shape = AttackShape(height: facts.height ?? 32, width: facts.width ?? 32, channels: facts.channels ?? 1, seed: 0)
            if config.descriptor.needsSurrogate || !((try? config.make(shape)) is (any TriggerAttack)) {
                issues.append(ManifestIssue(path: "evaluation.attack.kind", rule: "\(config.kind)'s trigger is not a fixed function of the image; use badnets, blend, sig or dfst, or supply triggered images (source \"npy\")"))
            }
            if config.common.mode == .allToAll {
                issues.append(ManifestIssue(path: "evaluation.attack.mode", rule: "the evaluation trigger must be all-to-one"))
            }
            if let h = facts.height, let w = facts.width, let need = config.parameters.triggerExtent, need > min(h, w) {
                issues.append(ManifestIssue(path: "evaluation.attack.patch_size", rule: "the trigger needs \(need) pixels but the images are \(h)x\(w)"))
            }
        }
        if let n = facts.trainCount, let p = m["isolate"]?["ratio"]?.doubleValue, (p * Double(n)).rounded() < 1 {
            issues.append(ManifestIssue(path: "isolate.ratio", rule: "isolates no sample of \(n) training images"))
        }
        if let c = m["model"]?["input_channels"]?.intValue, let dc = facts.channels, c != dc {
            issues.append(ManifestIssue(path: "model.input_channels", rule: "the model takes \(c) channels but the dataset has \(dc)"))
        }
        return issues
    }
}
