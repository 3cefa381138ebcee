import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// ABL on data the user brings: no attack section, `.npy` input, ground truth only where given,
/// and figures that cannot be known absent (not zero) in every output.
final class GivenDataPipelineTests: XCTestCase {
    /// 120 training and 45 test images (8x8 gray, 3 labels) as .npy; returns the dataset section.
    static func npyDataset(_ dir: String) throws -> [String: JSON] {
        func images(_ n: Int, _ salt: Int) -> [UInt8] { (0..<(n * 64)).map { UInt8(($0 * 7 + salt * 13) & 255) } }
        try NPY.write(uint8: images(120, 1), shape: [120, 8, 8], to: dir + "/train_x.npy")
        try NPY.write(int64: (0..<120).map { $0 % 3 }, to: dir + "/train_y.npy")
        try NPY.write(uint8: images(45, 2), shape: [45, 8, 8], to: dir + "/test_x.npy")
        try NPY.write(int64: (0..<45).map { $0 % 3 }, to: dir + "/test_y.npy")
        return ["format": .string("npy"), "train_images": .string(dir + "/train_x.npy"), "train_labels": .string(dir + "/train_y.npy"),
                "test_images": .string(dir + "/test_x.npy"), "test_labels": .string(dir + "/test_y.npy")]
    }

    static func manifest(_ dir: String, dataset: [String: JSON], extra: [String: JSON] = [:]) -> JSON {
        var o: [String: JSON] = [
            "name": .string("given"), "seed": .number(1), "output": .string(dir + "/run"), "dataset": .object(dataset),
            "model": .object(["architecture": .string("small-cnn"), "batch_size": .number(16)]),
            "isolate": .object(["epochs": .number(1), "ratio": .number(0.05), "strategy": .string("target-aware"), "when_clean": .string("isolate-anyway")]),
            "unlearn": .object(["finetune_epochs": .number(1), "epochs": .number(1)]),
            "baseline": .object(["epochs": .number(1)]),
        ]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    func run(_ m: JSON) throws -> (report: JSON, md: String, html: String, stages: [String]) {
        let manifest = try Manifest.resolve(m, file: "m.json")
        try Runner(manifest: manifest, quiet: true).run()
        let folder = manifest.runFolder + "/report/"
        let report = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: folder + "report.json")!))
        return (report, try String(contentsOfFile: folder + "report.md", encoding: .utf8),
                try String(contentsOfFile: folder + "report.html", encoding: .utf8), StageGraph.stages(for: manifest).map(\.name))
    }

    func testWithoutGroundTruthTheRunCleansAndLeavesUnknownFiguresOut() throws {
        let dir = T.tempFolder()
        let r = try run(Self.manifest(dir, dataset: try Self.npyDataset(dir)))
        XCTAssertEqual(r.stages, ["ingest", "isolate", "export", "unlearn", "report"], "no poison stage, no no-defense model by default")
        XCTAssertNil(r.report["attack"])
        XCTAssertNil(r.report["evaluation"])
        XCTAssertNil(r.report["models"]?["no_defense"])
        XCTAssertNotNil(r.report["models"]?["abl"]?["ca"])
        for key in ["asr", "ra", "der"] { XCTAssertNil(r.report["models"]?["abl"]?[key], key) }
        XCTAssertNil(r.report["isolation"]?["precision"])
        XCTAssertNil(r.report["isolation"]?["recall"])
        XCTAssertNil(r.report["digests"]?["triggered_test_images"])
        XCTAssertNil(r.report["digests"]?["clean_train_images"])
        XCTAssertEqual(r.report["digests"]?["train_images"]?.stringValue, try SHA256.hex(ofFile: dir + "/run/ingest/train_images.npy"))
        XCTAssertEqual(r.report["isolation"]?["count"]?.intValue, 6)
        XCTAssertNotNil(r.report["detection"]?["backdoor"])
        // Markdown and HTML: a dash where a figure is unknown, never 0, and a sentence on why
        XCTAssertTrue(r.md.contains("Data: the training set as given"), r.md)
        XCTAssertTrue(r.md.contains("ASR, RA and DER are unknown"), r.md)
        XCTAssertTrue(r.md.contains("| ABL | ") && r.md.contains(" | – | – | "), r.md)
        XCTAssertFalse(r.md.contains("no defense |"), r.md)
        XCTAssertFalse(r.md.contains("precision –") || r.md.contains("precision 0"), r.md)
        XCTAssertTrue(r.md.contains("| ABL | 33.33 % | 33.33 % | – | – | – |") || r.md.contains(" | – | – | – |"), r.md)
        XCTAssertTrue(r.html.contains("<p id=\"data\">Data: the training set as given"), r.html)
        XCTAssertTrue(r.html.contains("<td>–</td>"), r.html)
        // the hand-off: rows by their place in the user's file
        let csv = try String(contentsOfFile: dir + "/run/export/isolated/isolated.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 7)
        XCTAssertTrue(csv[1].contains(dir + "/train_x.npy#"), String(csv[1]))
        // compare prints the run with dashes too
        let table = Compare.table([("given", try OutputFile.read(RunReport.self, from: dir + "/run/report/report.json"))])
        XCTAssertTrue(table.contains("| given | data as given |"), table)
    }

    func testPoisonIndicatorAndACatalogueTriggerGivePrecisionASRAndDER() throws {
        let dir = T.tempFolder()
        var d = try Self.npyDataset(dir)
        try NPY.write(int64: [0, 3, 6, 9], to: dir + "/poisoned_rows.npy")
        d["poison_indicator"] = .string(dir + "/poisoned_rows.npy")
        let eval: JSON = .object(["source": .string("attack"), "attack": .object(["kind": .string("badnets"), "target": .number(1), "patch_size": .number(3)])])
        let r = try run(Self.manifest(dir, dataset: d, extra: ["evaluation": eval]))
        XCTAssertEqual(r.stages, ["ingest", "trigger", "isolate", "export", "unlearn", "baseline", "report"])
        XCTAssertNotNil(r.report["isolation"]?["precision"])
        XCTAssertNotNil(r.report["isolation"]?["recall"])
        for key in ["asr", "ra", "der"] { XCTAssertNotNil(r.report["models"]?["abl"]?[key], key) }
        XCTAssertNotNil(r.report["models"]?["no_defense"]?["asr"])
        XCTAssertEqual(r.report["evaluation"]?["target"]?.intValue, 1)
        XCTAssertEqual(r.report["evaluation"]?["count"]?.intValue, 30) // the 45 test images less the 15 of the target class
        XCTAssertEqual(r.report["evaluation"]?["attack"]?.stringValue, "badnets")
        XCTAssertNotNil(r.report["digests"]?["triggered_test_images"])
        XCTAssertTrue(r.md.contains("ASR is measured on 30 triggered test images"), r.md)
        let csv = try String(contentsOfFile: dir + "/run/export/isolated/isolated.csv", encoding: .utf8)
        XCTAssertTrue(csv.split(separator: "\n")[1].hasSuffix(".png") && (csv.contains(",true,") || csv.contains(",false,")), csv)
    }

    func testThePoisonIndicatorIsByRowAsGivenBeforeTheTestSplit() throws {
        let dir = T.tempFolder()
        var d = try Self.npyDataset(dir)
        d["test_images"] = nil
        d["test_labels"] = nil
        d["test_ratio"] = .number(0.25)
        let marked: Set<Int> = [0, 3, 6, 9, 50, 119]
        try NPY.write(int64: marked.sorted(), to: dir + "/poisoned_rows.npy")
        d["poison_indicator"] = .string(dir + "/poisoned_rows.npy")
        let manifest = try Manifest.resolve(Self.manifest(dir, dataset: d), file: "m.json")
        _ = try Runner(manifest: manifest, quiet: true).run(target: "ingest")
        let ingest = manifest.runFolder + "/ingest/"
        let rows = try NPY.readAny(ingest + "train_source_index.npy").integers()
        let flags = try NPY.readAny(ingest + "train_poisoned.npy").data.map { $0 != 0 }
        XCTAssertEqual(rows.count, 90)   // 120 less round(0.25 * 40) of each of 3 classes
        XCTAssertEqual(flags.count, rows.count)
        // a training sample is flagged exactly when the file row it came from is listed
        for (row, flag) in zip(rows, flags) { XCTAssertEqual(flag, marked.contains(row), "file row \(row)") }
        XCTAssertGreaterThan(flags.filter { $0 }.count, 0)
    }

    func testLabelsOutsideTheClassRangeAreAnErrorNotATrap() throws {
        let dir = T.tempFolder()
        let d = try Self.npyDataset(dir)
        for (name, bad) in [("huge", Int.max), ("negative", -5)] {
            try NPY.write(int64: (0..<120).map { $0 == 7 ? bad : $0 % 3 }, to: dir + "/train_y.npy")
            let manifest = try Manifest.resolve(Self.manifest(dir, dataset: d, extra: ["output": .string(dir + "/" + name)]), file: "m.json")
            XCTAssertThrowsError(try Runner(manifest: manifest, quiet: true).run(target: "ingest"), name) {
                XCTAssertTrue("\($0)".contains("train_y.npy") && "\($0)".contains("label \(bad)"), "\($0)")
            }
        }
    }

    func testSuppliedTriggeredImagesWithoutTrueLabelsGiveASRButNoRA() throws {
        let dir = T.tempFolder()
        try NPY.write(uint8: [UInt8](repeating: 255, count: 10 * 64), shape: [10, 8, 8, 1], to: dir + "/trig.npy")
        let eval: JSON = .object(["source": .string("npy"), "triggered_images": .string(dir + "/trig.npy"), "target": .number(2)])
        let r = try run(Self.manifest(dir, dataset: try Self.npyDataset(dir), extra: ["evaluation": eval]))
        XCTAssertNotNil(r.report["models"]?["abl"]?["asr"])
        XCTAssertNil(r.report["models"]?["abl"]?["ra"])
        XCTAssertEqual(r.report["evaluation"]?["true_labels_known"], .bool(false))
        XCTAssertTrue(r.md.contains("there is no RA"), r.md)
        // with true labels, the target-class images leave the set and RA is measured
        try NPY.write(int64: [0, 1, 2, 0, 1, 2, 0, 1, 2, 2], to: dir + "/trig_y.npy")
        let labelled: JSON = .object(["source": .string("npy"), "triggered_images": .string(dir + "/trig.npy"), "target": .number(2),
                                      "true_labels": .string(dir + "/trig_y.npy")])
        let l = try run(Self.manifest(dir, dataset: try Self.npyDataset(dir), extra: ["evaluation": labelled, "output": .string(dir + "/run2")]))
        XCTAssertEqual(l.report["evaluation"]?["count"]?.intValue, 6)
        XCTAssertNotNil(l.report["models"]?["abl"]?["ra"])
    }

    func testManifestRulesForDataBroughtWithoutAnAttack() throws {
        let dir = T.tempFolder()
        var d = try Self.npyDataset(dir)
        func issues(_ m: JSON) -> String {
            do { _ = try Manifest.resolve(m, file: "m.json"); return "" } catch { return "\(error)" }
        }
        let clean = issues(Self.manifest(dir, dataset: d, extra: ["baseline": .object(["clean": .bool(true)])]))
        XCTAssertTrue(clean.contains("baseline.clean") && clean.contains("needs an attack section"), clean)
        let cba = issues(Self.manifest(dir, dataset: d, extra: ["evaluation": .object(["source": .string("attack"), "attack": .object(["kind": .string("cl")])])]))
        XCTAssertTrue(cba.contains("evaluation.attack.kind"), cba)
        let tooBig = issues(Self.manifest(dir, dataset: d, extra: ["evaluation": .object(["source": .string("npy"), "triggered_images": .string(dir + "/train_x.npy"), "target": .number(3)])]))
        XCTAssertTrue(tooBig.contains("evaluation.target") && tooBig.contains("3 classes"), tooBig)
        d["test_images"] = nil
        let half = issues(Self.manifest(dir, dataset: d))
        XCTAssertTrue(half.contains("dataset.test_images") && half.contains("required with test_labels"), half)
        d["test_labels"] = nil
        d["test_ratio"] = .number(0.2)
        XCTAssertEqual(issues(Self.manifest(dir, dataset: d)), "")
        var withAttack = Self.manifest(dir, dataset: try Self.npyDataset(dir), extra: ["attack": .object(["kind": .string("badnets")])]).objectValue!
        var ds = withAttack["dataset"]!.objectValue!
        ds["poison_indicator"] = .string(dir + "/train_y.npy")
        withAttack["dataset"] = .object(ds)
        let both = issues(.object(withAttack))
        XCTAssertTrue(both.contains("dataset.poison_indicator") && both.contains("is for data you bring"), both)
    }
}
