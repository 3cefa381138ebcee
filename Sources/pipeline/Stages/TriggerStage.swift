import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// Data the user brings (no attack section): the triggered test set that measures a backdoor,
/// from the `evaluation` section. Either the user's own triggered images, or a catalogue
/// attack's trigger stamped on every non-target image of the ingested test set. The training
/// set is not touched. Outputs: `triggered_test.*` (as the poison stage writes it) and
/// `trigger.json`.
struct TriggerStage: Stage {
    static let stageName = "trigger"
    static let recordFile = "trigger.json"
    let name = stageName
    let upstream = ["ingest"]
    let formatVersion = 1

    func parameters(_ m: Manifest) -> JSON { .object(["evaluation": m.section("evaluation"), "dataset": m.section("dataset"), "seed": m.resolved["seed"]!]) }
    func externalInputs(_ m: Manifest) -> [String] {
        guard let e = m.config.evaluation, e.source == .npy else { return [] }
        return [e.triggeredImages, e.trueLabels].compactMap { $0 }
    }
    func declaredOutputs(_ m: Manifest) -> [String] { ["triggered_test.json", "triggered_test_images.npy", "triggered_test_labels.npy", TriggerStage.recordFile] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        guard let e = m.config.evaluation else { throw StageError.failed(stage: name, reason: "the manifest has no evaluation section") }
        let ds = try DatasetStore.read(from: ctx.upstreamFolder("ingest"))
        let k = ds.classNames.count
        let triggered: DatasetSplit, record: TriggerRecord
        switch e.source {
        case .attack:
            guard let config = e.attack else { throw StageError.failed(stage: name, reason: "evaluation.attack is missing") }
            let built: any Attack
            do {
                built = try config.make(AttackShape(height: ds.test.height, width: ds.test.width, channels: ds.test.channels, seed: m.seed))
            } catch let err as AttackBuildError {
                throw StageError.failed(stage: name, reason: "evaluation.attack: \(err)")
            }
            guard let attack = built as? any TriggerAttack, !config.descriptor.needsSurrogate else {
                throw StageError.failed(stage: name, reason: "evaluation.attack.kind: \(config.kind)'s trigger is not a fixed function of the image; use badnets, blend, sig or dfst")
            }
            guard attack.target < k else {
                throw StageError.failed(stage: name, reason: "evaluation.attack.target: class \(attack.target) does not exist (the dataset has \(k) classes)")
            }
            triggered = attack.triggered(ds.test, classCount: k)
            record = TriggerRecord(source: e.source.rawValue, target: attack.target, targetName: ds.classNames[attack.target], count: triggered.count,
                                   trueLabelsKnown: true, attack: config.kind, attackName: attack.displayName, images: nil)
        case .npy:
            guard let path = e.triggeredImages, let target = e.target else {
                throw StageError.failed(stage: name, reason: "evaluation.triggered_images and evaluation.target are required with source npy")
            }
            guard target < k else { throw StageError.failed(stage: name, reason: "evaluation.target: class \(target) does not exist (the dataset has \(k) classes)") }
            triggered = try TriggerStage.userTriggered(path, trueLabels: e.trueLabels, target: target, dataset: ds, manifest: m)
            record = TriggerRecord(source: e.source.rawValue, target: target, targetName: ds.classNames[target], count: triggered.count,
                                   trueLabelsKnown: e.trueLabels != nil, attack: nil, attackName: nil, images: path)
        }
        guard triggered.count > 0 else {
            throw StageError.failed(stage: name, reason: "the triggered test set is empty (every image is of the target class)")
        }
        try DatasetStore.writeSplit(triggered, name: "triggered_test", classNames: ds.classNames, to: ctx.workFolder)
        try OutputFile.write(record, to: ctx.workFolder + "/" + TriggerStage.recordFile)
        ctx.log("triggered test set: \(triggered.count) images for target \(record.target) (\(record.targetName))" + (record.trueLabelsKnown ? "" : ", true labels unknown (no RA)"))
    }

    /// The user's triggered images, stored like the dataset (same channel and size conversion),
    /// labelled with the target; with true labels, target-class images are left out and the
    /// true labels kept for RA.
    static func userTriggered(_ path: String, trueLabels: String?, target: Int, dataset ds: Dataset, manifest m: Manifest) throws -> DatasetSplit {
        var split = try NPYDatasetReader.images(path, idPrefix: "triggered")
        var adjust = DatasetAdjustment()
        adjust.channels = ds.test.channels; adjust.height = ds.test.height; adjust.width = ds.test.width
        adjust.sizePolicy = m.config.dataset.sizePolicy
        split = try adjust.adjust(split, split: "triggered")
        guard let labelsPath = trueLabels else {
            split.labels = Array(repeating: target, count: split.count)
            return split
        }
        let labels = try NPYDatasetReader.labels(labelsPath)
        guard labels.count == split.count else {
            throw DatasetError.shapeMismatch(path: labelsPath, reason: "\(labels.count) labels for \(split.count) triggered images in \(path)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= ds.classNames.count }) {
            throw DatasetError.labelOutOfRange(path: labelsPath, label: bad, classes: ds.classNames.count)
        }
        let keep = labels.indices.filter { labels[$0] != target }
        var out = split.subset(keep)
        out.poison = PoisonInfo(poisoned: Array(repeating: true, count: out.count), originalLabels: keep.map { labels[$0] }, originalIndices: keep)
        out.labels = Array(repeating: target, count: out.count)
        return out
    }
}

/// `trigger.json`: where the triggered test set came from.
struct TriggerRecord: Codable, Sendable {
    var source: String
    var target: Int
    var targetName: String
    var count: Int
    /// Whether the images' true labels are known (RA is measured only then).
    var trueLabelsKnown: Bool
    /// `attack`: the catalogue kind and name of the stamped trigger.
    var attack: String?
    var attackName: String?
    /// `npy`: the file of triggered images.
    var images: String?

    enum CodingKeys: String, CodingKey {
        case source, target, count, attack, images
        case targetName = "target_name", trueLabelsKnown = "true_labels_known", attackName = "attack_name"
    }
}
