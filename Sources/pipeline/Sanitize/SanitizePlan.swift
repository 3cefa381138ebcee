import ABLNet
import CanonicalJSON
import Foundation

/// What `abl sanitize` is told, and the manifest it builds from it: our default ABL (target-aware
/// isolation with an adaptive count, joint unlearning with the `complement` objective, the
/// detection verdict first) on the dataset as given, on one of two epoch budgets.
struct SanitizePlan {
    /// The epoch budget.
    enum Schedule: String, CaseIterable, Sendable {
        /// A few minutes on 2 cores for 10000 28x28 images (the quickstart's budget).
        case quick
        /// The fmnist schedule of `manifests/fmnist/*.json` (5 isolation epochs, 10 of unlearning).
        case full
    }

    /// Where the images come from.
    enum Input {
        /// `.npy` arrays; without a test pair, `testRatio` of the training rows.
        case npy(trainImages: String, trainLabels: String, testImages: String?, testLabels: String?, testRatio: Double)
        /// An ImageFolder tree (and a test tree, or `testRatio` of it), stored at `channels` x `size`.
        case imageFolder(root: String, testDir: String?, testRatio: Double, channels: Int, height: Int, width: Int)

        /// Whether the test set is carved from the suspect data (then it holds poison too).
        var testFromTrainingData: Bool {
            switch self {
            case .npy(_, _, let ti, let tl, _): return ti == nil || tl == nil
            case .imageFolder(_, let t, _, _, _, _): return t == nil
            }
        }
    }

    var name: String
    var output: String
    var input: Input
    var schedule: Schedule = .full
    var classNames: [String]? = nil
    var poisonIndicator: String? = nil
    /// The user's triggered test images, their target and optionally their true labels.
    var triggeredImages: String? = nil
    var triggeredTarget: Int? = nil
    var triggeredTrueLabels: String? = nil
    var threads: Int? = nil
    var seed: Int = 0

    /// A path made absolute, so the manifest in the run folder runs from anywhere.
    static func absolute(_ p: String) -> String {
        p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
    }

    /// The manifest, every path absolute.
    func manifest() -> JSON {
        let a = SanitizePlan.absolute
        var dataset: [String: JSON]
        switch input {
        case .npy(let ti, let tl, let vi, let vl, let ratio):
            dataset = ["format": .string("npy"), "train_images": .string(a(ti)), "train_labels": .string(a(tl))]
            if let vi, let vl { dataset["test_images"] = .string(a(vi)); dataset["test_labels"] = .string(a(vl)) } else { dataset["test_ratio"] = .number(ratio) }
        case .imageFolder(let root, let testDir, let ratio, let c, let h, let w):
            dataset = ["format": .string("image-folder"), "channels": .number(Double(c)), "height": .number(Double(h)), "width": .number(Double(w))]
            if let testDir { dataset["train_dir"] = .string(a(root)); dataset["test_dir"] = .string(a(testDir)) } else { dataset["root"] = .string(a(root)); dataset["test_ratio"] = .number(ratio) }
        }
        if let names = classNames { dataset["class_names"] = .array(names.map(JSON.string)) }
        if let p = poisonIndicator { dataset["poison_indicator"] = .string(a(p)) }
        let (isolateEpochs, finetuneEpochs, drop) = schedule == .quick ? (5, 3, 2) : (5, 10, 5)
        var isolate: [String: JSON] = [
            "epochs": .number(Double(isolateEpochs)), "lr": .number(0.1), "gamma": .number(0.5), "granularity": .string("batch"), "shuffle": .bool(true),
            "ratio": .number(0.01), "strategy": .string("target-aware"), "max_ratio": .number(0.25),
        ]
        // a test set carved from the suspect data holds poison in the same share: no clean reference to judge against
        if input.testFromTrainingData { isolate["detection"] = .string("off") }
        var m: [String: JSON] = [
            "$comment": .string("Written by abl sanitize: our default ABL on the dataset as given (docs/SANITIZE.md). Edit and rerun with `abl run` on this file."),
            "name": .string(name), "seed": .number(Double(seed)), "output": .string(a(output)), "dataset": .object(dataset),
            "model": .object(["architecture": .string("wrn-16-1"), "batch_size": .number(128)].merging(threads.map { ["threads": .number(Double($0))] } ?? [:]) { $1 }),
            "isolate": .object(isolate),
            "unlearn": .object(["mode": .string("joint"), "objective": .string("complement"), "lambda": .number(1), "finetune_epochs": .number(Double(finetuneEpochs)),
                                "finetune_lr": .number(0.1), "finetune_lr_drop": .number(Double(drop)), "finetune_augment": .bool(schedule == .full), "epochs": .number(0)]),
        ]
        if let t = triggeredImages, let target = triggeredTarget {
            var e: [String: JSON] = ["source": .string("npy"), "triggered_images": .string(a(t)), "target": .number(Double(target))]
            if let l = triggeredTrueLabels { e["true_labels"] = .string(a(l)) }
            m["evaluation"] = .object(e)
            m["baseline"] = .object(["epochs": .number(Double(schedule == .quick ? 4 : 15)), "lr": .number(0.1), "lr_drop": .number(Double(schedule == .quick ? 3 : 9)),
                                    // a 4-epoch schedule learns neither the classes nor a trigger better with augmentation (docs/DESIGN.md, quick schedule)
                                    "augment": .bool(schedule == .full)])
        }
        return .object(m)
    }
}
