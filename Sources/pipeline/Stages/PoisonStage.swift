import ABLNet
import Foundation
import PoisonForge

/// Applies the manifest's attack to the ingested dataset. Outputs: the poisoned dataset (train
/// with per-sample poison flags, original labels and indices; test clean), the triggered test
/// set for ASR (`triggered_test.*`) and `attack.json` (what was done, in numbers).
struct PoisonStage: Stage {
    let name = "poison"
    let upstream = ["ingest"]
    let formatVersion = 1

    func parameters(_ m: Manifest) -> JSON { .object(["attack": m.section("attack"), "seed": m.resolved["seed"]!]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] {
        DatasetStore.fileNames(poisonedSplits: ["train"]) + ["triggered_test.json", "triggered_test_images.npy", "attack.json"]
    }

    /// The attack the manifest describes.
    static func attack(_ a: JSON) throws -> any Attack {
        let target = a["target"]?.intValue ?? 0, rate = a["rate"]?.doubleValue ?? 0.1
        let mode = TargetMode(rawValue: a["mode"]?.stringValue ?? "all-to-one") ?? .allToOne
        switch a["kind"]?.stringValue {
        case "badnets":
            let size = a["patch_size"]?.intValue ?? 3
            let name = a["pattern"]?.stringValue ?? "reference"
            guard let pattern = BadNets.pattern(named: name, size: size) else {
                throw StageError.failed(stage: "poison", reason: "pattern \(name) does not exist at size \(size)")
            }
            return BadNets(target: target, rate: rate, targetMode: mode, size: size, pattern: pattern,
                           corner: BadNets.Corner(rawValue: a["corner"]?.stringValue ?? "bottom-right") ?? .bottomRight,
                           margin: a["margin"]?.intValue ?? 0)
        case let other:
            throw StageError.failed(stage: "poison", reason: "unknown attack kind \(other ?? "(none)")")
        }
    }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest
        let clean = try DatasetStore.read(from: ctx.upstreamFolder("ingest"))
        let attack = try PoisonStage.attack(m.section("attack"))
        guard attack.target < clean.classNames.count else {
            throw StageError.failed(stage: name, reason: "attack.target \(attack.target) is not a class (the dataset has \(clean.classNames.count))")
        }
        let result = try attack.poison(train: clean.train, test: clean.test, classCount: clean.classNames.count, seed: m.seed)
        var poisoned = clean
        poisoned.train = result.train
        try DatasetStore.write(poisoned, to: ctx.workFolder)
        try DatasetStore.writeSplit(result.triggeredTest, name: "triggered_test", classNames: clean.classNames, to: ctx.workFolder)
        let count = result.train.poison!.poisoned.filter { $0 }.count
        let info = JSON.object([
            "kind": .string(attack.kind), "name": .string(attack.displayName), "label_kind": .string(attack.labelKind.rawValue),
            "mode": .string(attack.targetMode.rawValue), "target": .number(Double(attack.target)),
            "target_name": .string(clean.classNames[attack.target]),
            "rate": .number(attack.rate), "rate_counts": .string(attack.labelKind == .dirty ? "whole training set" : "target class"),
            "poisoned": .number(Double(count)), "train_count": .number(Double(result.train.count)),
            "triggered_test_count": .number(Double(result.triggeredTest.count)),
            "parameters": m.section("attack"),
        ])
        try AtomicFile.write(Data(info.pretty.utf8), to: ctx.workFolder + "/attack.json")
        ctx.log("\(attack.displayName): \(count) of \(result.train.count) training images poisoned, \(result.triggeredTest.count) triggered test images")
    }
}
