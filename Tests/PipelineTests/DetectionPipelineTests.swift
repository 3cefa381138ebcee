import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// The detection verdict through the stages: a clean-looking set isolates nothing, unlearning
/// then trains an ordinary model, and every output says so.
final class DetectionPipelineTests: XCTestCase {
    /// 120 training and 45 test images over 3 labels (enough for a verdict), one poisoned image.
    func manifest(_ dir: String, isolate: [String: JSON] = [:]) -> JSON { DetectionPipelineTests.manifest(dir, isolate: isolate) }

    static func manifest(_ dir: String, isolate: [String: JSON] = [:]) -> JSON {
        var iso: [String: JSON] = ["epochs": .number(1), "ratio": .number(0.05), "strategy": .string("target-aware")]
        for (k, v) in isolate { iso[k] = v }
        return .object([
            "name": .string("t"), "seed": .number(1), "output": .string(dir + "/run"), "dataset": T.idxSection(in: dir, train: 120, test: 45),
            "attack": .object(["kind": .string("badnets"), "rate": .number(0.01)]),
            "model": .object(["architecture": .string("small-cnn"), "batch_size": .number(16)]),
            "isolate": .object(iso),
            "unlearn": .object(["finetune_epochs": .number(1), "epochs": .number(1)]),
            "baseline": .object(["epochs": .number(1)]),
        ])
    }

    func run(_ dir: String, isolate: [String: JSON] = [:]) throws -> (iso: JSON, report: JSON) {
        try Runner(manifest: try Manifest.resolve(manifest(dir, isolate: isolate), file: "m.json"), quiet: true).run()
        func read(_ f: String) throws -> JSON { try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/run/" + f)!)) }
        return (try read("isolate/isolation.json"), try read("report/report.json"))
    }

    func testNoBackdoorVerdictIsolatesNothingAndTrainsAnOrdinaryModel() throws {
        let dir = T.tempFolder()
        let (iso, report) = try run(dir)
        XCTAssertEqual(iso["detection"]?["method"]?.stringValue, "test-reference")
        XCTAssertEqual(iso["detection"]?["backdoor"], .bool(false))
        XCTAssertEqual(iso["detection"]?["target"], nil)
        XCTAssertEqual(iso["detection"]?["action"]?.stringValue, "isolated nothing")
        XCTAssertEqual(iso["detection"]?["labels"]?.arrayValue?.count, 6) // 3 labels x 2 signals
        XCTAssertEqual(iso["count"]?.intValue, 0)
        XCTAssertNil(iso["precision"], "no precision for an empty isolated set")
        XCTAssertEqual(try NPY.read(dir + "/run/isolate/isolated.npy").int64, [])
        XCTAssertEqual(try NPY.read(dir + "/run/isolate/test_losses.npy").float32.count, 45)
        // the hand-off says so, and lists no sample
        let csv = try String(contentsOfFile: dir + "/run/export/isolated/isolated.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1)
        let readme = try String(contentsOfFile: dir + "/run/export/isolated/README.txt", encoding: .utf8)
        XCTAssertTrue(readme.contains("no backdoor was found"), readme)
        XCTAssertTrue(readme.contains("No sample was isolated"), readme)
        // unlearning trained without isolated samples: no isolated accuracy
        let metrics = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/run/unlearn/metrics.json")!))
        XCTAssertNil(metrics["isolated_accuracy"])
        // the report opens with the verdict, in every format
        XCTAssertEqual(report["detection"]?["backdoor"], .bool(false))
        let md = try String(contentsOfFile: dir + "/run/report/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("**Verdict: no backdoor found.**"), md)
        XCTAssertTrue(md.contains("Unlearning: none, nothing was isolated"), md)
        let html = try String(contentsOfFile: dir + "/run/report/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<p id=\"verdict\"><strong>Verdict: no backdoor found.</strong>"), html)
    }

    func testIsolateAnywayAndDetectionOffKeepTheStatisticsChoice() throws {
        let anyway = try run(T.tempFolder(), isolate: ["when_clean": .string("isolate-anyway")]).iso
        XCTAssertEqual(anyway["detection"]?["backdoor"], .bool(false))
        XCTAssertEqual(anyway["detection"]?["action"]?.stringValue, "isolated anyway (isolate.when_clean)")
        XCTAssertEqual(anyway["count"]?.intValue, 6) // round(0.05 * 120)
        XCTAssertNotNil(anyway["inferred_target"])
        let off = try run(T.tempFolder(), isolate: ["detection": .string("off")]).iso
        XCTAssertNil(off["detection"])
        XCTAssertEqual(off["count"]?.intValue, 6)
    }

    func testTooFewTestSamplesPerLabelGiveNoVerdict() throws {
        let dir = T.tempFolder()
        try Runner(manifest: try Manifest.resolve(ABLStagesTests.smallRun(dir), file: "m.json"), quiet: true).run()
        let iso = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/run/isolate/isolation.json")!))
        XCTAssertEqual(iso["detection"]?["method"]?.stringValue, "none")
        XCTAssertNil(iso["detection"]?["backdoor"])
        XCTAssertEqual(iso["detection"]?["action"]?.stringValue, "no verdict: isolated without one")
        XCTAssertEqual(iso["count"]?.intValue, 3)
        let md = try String(contentsOfFile: dir + "/run/report/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("**No verdict:**"), md)
    }
}

extension CommandLineTests {
    /// `abl detect` re-judges a run from its saved outputs, as text or JSON, with another rule if asked.
    func testAblDetectRejudgesARunFolder() throws {
        let dir = T.tempFolder()
        T.writeManifest(DetectionPipelineTests.manifest(dir), dir + "/m.json")
        let cli = self
        let ran = try cli.run(["run", dir + "/m.json"])
        XCTAssertEqual(ran.code, 0, ran.err)
        // the log says it in words, with the evidence's figures
        let line = ran.err.split(separator: "\n").first { $0.contains("detection: no backdoor found; the largest excess is label") }
        XCTAssertNotNil(line, ran.err)
        XCTAssertTrue(line.map { $0.contains("% of its training samples") && $0.contains(" over 6 label and signal pairs; a backdoor needs p <= 0.0001 and an excess of 5 points") } ?? false, String(line ?? ""))
        let text = try cli.run(["detect", dir + "/run"])
        XCTAssertEqual(text.code, 0, text.err)
        XCTAssertTrue(text.out.hasPrefix("no backdoor found"), text.out)
        let json = try cli.run(["detect", dir + "/run", "--json", "--false-positive-rate", "0.4", "--min-excess", "0"])
        XCTAssertEqual(json.code, 0, json.err)
        let v = try JSON.parse(bytes: Array(json.out.utf8))
        XCTAssertEqual(v["method"]?.stringValue, "test-reference")
        XCTAssertEqual(v["false_positive_rate"]?.doubleValue, 0.4)
        XCTAssertEqual(v["labels"]?.arrayValue?.count, 6)
        // the saved verdict is untouched, and a folder that is no run is a clear error
        let iso = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/run/isolate/isolation.json")!))
        XCTAssertEqual(iso["detection"]?["false_positive_rate"]?.doubleValue, 0.0001)
        let missing = try cli.run(["detect", dir])
        XCTAssertNotEqual(missing.code, 0)
        XCTAssertTrue(missing.err.contains("losses.npy"), missing.err)
        XCTAssertEqual(try cli.run(["detect", dir + "/run", "--false-positive-rate", "2"]).code, 64)
        // losses that are not the ones the isolate stage wrote are refused, not judged
        let n = try NPY.read(dir + "/run/isolate/losses.npy").float32.count
        try NPY.write(float32: [Float](repeating: 0.5, count: n), to: dir + "/run/isolate/losses.npy")
        let edited = try cli.run(["detect", dir + "/run"])
        XCTAssertNotEqual(edited.code, 0)
        XCTAssertTrue(edited.err.contains("isolate/losses.npy") && edited.err.contains("differs from stage.json"), edited.err)
    }
}
