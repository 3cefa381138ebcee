import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// The attacks inside the pipeline: the surrogate stage and its place in the cache, and the
/// errors `abl validate` gives for bad attack settings.
final class AttackPipelineTests: XCTestCase {
    func run(_ dir: String, attack: [String: JSON], surrogateEpochs: Int = 1) -> JSON {
        ABLStagesTests.smallRun(dir, extra: [
            "attack": .object(attack),
            "surrogate": .object(["architecture": .string("small-cnn"), "epochs": .number(Double(surrogateEpochs))]),
        ])
    }

    func testSurrogateAttacksGetASurrogateStageWhoseKeyEntersThePoisonStage() throws {
        let dir = T.tempFolder()
        let cl: [String: JSON] = ["kind": .string("cl"), "steps": .number(3)]
        let r = Runner(manifest: try Manifest.resolve(run(dir, attack: cl), file: "m.json"), quiet: true)
        XCTAssertEqual(r.stages.map(\.name), ["ingest", "surrogate", "poison", "isolate", "export", "unlearn", "baseline", "clean", "report"])
        try r.run(target: "poison")
        let attack = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/run/poison/attack.json")!))
        XCTAssertEqual(attack["label_kind"]?.stringValue, "clean")
        XCTAssertEqual(attack["rate_counts"]?.stringValue, "target class")
        XCTAssertEqual(attack["poisoned"]?.intValue, 5) // half of the 10 target-class images
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/poison/gallery.png"))
        // Without `patch_size` the corner checkerboards take the size derived from the images.
        let images = try NPY.read(dir + "/run/poison/train_images.npy")
        let (h, w, c) = (images.shape[1], images.shape[2], images.shape.count > 3 ? images.shape[3] : 1)
        XCTAssertEqual(attack["details"]?["patch_size"]?.intValue, LabelConsistent.referencePatchSize(height: h, width: w, channels: c))
        // Another surrogate makes the poison stage stale through its input, nothing else changed.
        let r2 = Runner(manifest: try Manifest.resolve(run(dir, attack: cl, surrogateEpochs: 2), file: "m.json"), quiet: true)
        let states = Dictionary(uniqueKeysWithValues: try r2.status().map { ($0.stage, $0.state) })
        XCTAssertEqual(states["ingest"], .fresh)
        XCTAssertEqual(states["surrogate"], .stale("parameters changed"))
        XCTAssertEqual(states["poison"], .stale("upstream surrogate is not fresh"))
        // Attacks without a model have no surrogate stage.
        let plain = Runner(manifest: try Manifest.resolve(run(dir, attack: ["kind": .string("sig")]), file: "m.json"), quiet: true)
        XCTAssertFalse(plain.stages.map(\.name).contains("surrogate"))
    }

    func testEveryAttackRunsThroughThePoisonStage() throws {
        let dir = T.tempFolder()
        let fast: [String: [String: JSON]] = [
            "trojan": ["steps": .number(2), "margin": .number(0)], "dynamic": ["steps": .number(2)], "cl": ["steps": .number(2)],
            "fc": ["steps": .number(2), "patch_size": .number(2)], "lba": ["steps": .number(2)],
            "cba": ["class_a": .number(1), "class_b": .number(2), "rate": .number(0.2)], "sig": ["rate": .number(0.5)],
        ]
        for kind in AttackCatalog.kinds {
            var a: [String: JSON] = ["kind": .string(kind)]
            for (k, v) in fast[kind] ?? [:] { a[k] = v }
            try FileManager.default.createDirectory(atPath: dir + "/" + kind, withIntermediateDirectories: true)
            let m = try Manifest.resolve(run(dir + "/" + kind, attack: a), file: "m.json")
            XCTAssertNoThrow(try Runner(manifest: m, quiet: true).run(target: "poison"), kind)
            let info = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/\(kind)/run/poison/attack.json") ?? Data()))
            XCTAssertEqual(info["kind"]?.stringValue, kind)
            XCTAssertGreaterThan(info["poisoned"]?.intValue ?? 0, 0, kind)
        }
    }

    func testValidateRejectsBadAttackSettings() throws {
        let dir = T.tempFolder()
        func issues(_ attack: [String: JSON], surrogate: [String: JSON] = [:]) -> [ManifestIssue] {
            var extra: [String: JSON] = ["attack": .object(attack)]
            if !surrogate.isEmpty { extra["surrogate"] = .object(surrogate) }
            do { _ = try Manifest.resolve(ABLStagesTests.smallRun(dir, extra: extra), file: "m.json"); return [] } catch let e as ManifestError { return e.issues } catch { return [] }
        }
        XCTAssertTrue(issues(["kind": .string("blendd")]).contains { $0.path == "attack.kind" && $0.rule.contains("\"blend\"") })
        XCTAssertTrue(issues(["kind": .string("badnets"), "alpha": .number(0.2)]).contains { $0.path == "attack.alpha" && $0.rule.hasPrefix("unknown key") })
        XCTAssertTrue(issues(["kind": .string("blend"), "key": .string("image")]).contains { $0.path == "attack.key_image" })
        XCTAssertTrue(issues(["kind": .string("blend"), "key": .string("image"), "key_image": .string(dir + "/missing.png")]).contains { $0.path == "attack.key_image" && $0.rule.contains("not found") })
        T.write(Array("not an image".utf8), dir + "/fake.png")
        XCTAssertTrue(issues(["kind": .string("blend"), "key": .string("image"), "key_image": .string(dir + "/fake.png")]).contains { $0.path == "attack.key_image" && $0.rule.contains("PNG or JPEG") })
        XCTAssertTrue(issues(["kind": .string("cba"), "class_a": .number(5)]).contains { $0.path == "attack.class_a" && $0.rule.contains("does not exist") })
        XCTAssertTrue(issues(["kind": .string("cba"), "class_a": .number(0)]).contains { $0.path == "attack.class_a" && $0.rule.contains("target") })
        XCTAssertTrue(issues(["kind": .string("badnets"), "patch_size": .number(5), "pattern": .string("white"), "margin": .number(2)]).contains { $0.path == "attack.patch_size" && $0.rule.contains("6x6") })
        XCTAssertTrue(issues(["kind": .string("sig"), "rate_of": .string("everything")]).contains { $0.path == "attack.rate_of" })
        XCTAssertTrue(issues(["kind": .string("sig"), "target": .number(3)]).contains { $0.path == "attack.target" })
        // A surrogate checkpoint for the wrong input.
        let wrong = Architecture.smallCNN.build(inputChannels: 3, numClasses: 3, seed: 1, engine: EngineSettings())
        try SafeTensors.save(wrong, to: dir + "/rgb.safetensors")
        XCTAssertTrue(issues(["kind": .string("cl")], surrogate: ["architecture": .string("small-cnn"), "checkpoint": .string(dir + "/rgb.safetensors")])
            .contains { $0.path == "surrogate.checkpoint" && $0.rule.contains("1-channel") })
    }

    func testAttacksListsEveryKindWithItsDefaults() {
        let text = Attacks.listing(json: false)
        for k in AttackCatalog.kinds { XCTAssertTrue(text.contains("\n" + k) || text.hasPrefix(k), k) }
        XCTAssertTrue(text.contains("delta") && text.contains("default 40"))
        let lines = Attacks.listing(json: true).split(separator: "\n")
        XCTAssertEqual(lines.count, 10)
        XCTAssertEqual(try JSON.parse(String(lines[3]))["kind"]?.stringValue, "dynamic")
    }
}
