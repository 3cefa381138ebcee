import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// Applies the manifest's attack to the ingested dataset. Outputs: the poisoned dataset (train
/// with per-sample poison flags, original labels and indices; test clean), the triggered test
/// set for ASR (`triggered_test.*`), `attack.json` (what was done, in numbers) and
/// `gallery.png` (clean | poisoned | amplified difference for a few poisoned samples).
/// Attacks that optimise against a model read the surrogate stage's.
struct PoisonStage: Stage {
    let name = "poison"
    /// Whether the attack reads the surrogate stage's model.
    let withSurrogate: Bool
    var upstream: [String] { withSurrogate ? ["ingest", "surrogate"] : ["ingest"] }
    let formatVersion = 1
    /// The attacks that optimise against the surrogate split their images over the ranks.
    var runsOnEveryRank: Bool { withSurrogate }

    func parameters(_ m: Manifest) -> JSON { TrainingSupport.keyed(["attack": m.section("attack"), "seed": m.resolved["seed"]!], m) }
    func externalInputs(_ m: Manifest) -> [String] {
        if let p = m.config.attack?.parameters as? BlendParameters, p.key == .image, let path = p.keyImage { return [path] }
        return []
    }
    /// The gallery is for people; no downstream stage reads it, so it stays out of their keys.
    func volatileOutputs(_ m: Manifest) -> [String] { ["gallery.png"] }
    func declaredOutputs(_ m: Manifest) -> [String] {
        DatasetStore.fileNames(poisonedSplits: ["train"]) + ["triggered_test.json", "triggered_test_images.npy", "attack.json", "gallery.png"]
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let clean = try DatasetStore.read(from: ctx.upstreamFolder("ingest"))
        guard let config = m.config.attack else { throw StageError.failed(stage: name, reason: "the manifest has no attack section") }
        let attack: any Attack
        do {
            attack = try config.make(AttackShape(height: clean.train.height, width: clean.train.width, channels: clean.train.channels, seed: m.seed))
        } catch let e as AttackBuildError {
            throw StageError.failed(stage: name, reason: "attack: \(e)")
        }
        guard attack.target < clean.classNames.count else {
            throw StageError.failed(stage: name, reason: "attack.target \(attack.target) is not a class (the dataset has \(clean.classNames.count))")
        }
        var context = AttackContext(classCount: clean.classNames.count, seed: m.seed, group: ctx.group, log: { ctx.log($0) })
        if attack.needsSurrogate {
            let net = SurrogateStage.network(m, channels: clean.train.channels, classes: clean.classNames.count)
            try SafeTensors.load(into: net, from: ctx.upstreamFolder("surrogate") + "/model.safetensors")
            context.surrogate = net
        }
        let result: PoisonedData
        do {
            result = try attack.poison(train: clean.train, test: clean.test, context: context)
        } catch let e as DatasetError {
            throw StageError.failed(stage: name, reason: "\(e)")
        } catch let e as AttackParameterError {
            throw StageError.failed(stage: name, reason: "\(PoisonStage.manifestKey(e.parameter)): \(e.reason)")
        }
        var poisoned = clean
        poisoned.train = result.train
        try DatasetStore.write(poisoned, to: ctx.workFolder)
        try DatasetStore.writeSplit(result.triggeredTest, name: "triggered_test", classNames: clean.classNames, to: ctx.workFolder)
        let flags = result.train.poison!.poisoned
        let count = flags.filter { $0 }.count
        let gallery = Gallery.render(clean: clean.train, poisoned: result.train, indices: Array(flags.indices.filter { flags[$0] }.prefix(4)))
        try PNGCodec.write(pixels: gallery.pixels, width: gallery.width, height: gallery.height, channels: 3, to: ctx.workFolder + "/gallery.png")
        let record = AttackRecord<String>(
            kind: attack.kind, name: attack.displayName, labelKind: attack.labelKind.rawValue, mode: attack.targetMode.rawValue,
            target: attack.target, targetName: clean.classNames[attack.target], rate: attack.rate,
            rateCounts: attack.rateBase == .trainingSet ? "whole training set" : "target class",
            poisoned: count, poisonedShareOfTrainingSet: TrainingSupport.round4(Double(count) / Double(max(1, result.train.count))),
            trainCount: result.train.count, triggeredTestCount: result.triggeredTest.count, parameters: m.section("attack"),
            details: result.details.isEmpty ? nil : result.details,
            surrogate: attack.needsSurrogate ? ctx.upstreamFolder("surrogate") + "/model.safetensors" : nil)
        try OutputFile.write(record, to: ctx.workFolder + "/attack.json")
        ctx.log("\(attack.displayName): \(count) of \(result.train.count) training images poisoned, \(result.triggeredTest.count) triggered test images")
    }

    /// The manifest key of an attack parameter.
    static func manifestKey(_ p: AttackParameterError.Parameter) -> String {
        switch p {
        case .rate: return "attack.rate"
        case .patchSize: return "attack.patch_size"
        case .patchFraction: return "attack.patch_fraction"
        case .classA: return "attack.class_a"
        case .classB: return "attack.class_b"
        case .generatorLR: return "attack.generator_lr"
        }
    }
}
