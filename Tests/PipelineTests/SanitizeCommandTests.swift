import ABLNet
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// `abl sanitize`: the auditor's one command, through the binary.
final class SanitizeCommandTests: XCTestCase {

    func testSanitizeWritesItsManifestIntoTheRunFolderAndRunsIt() throws {
        let dir = T.tempFolder()
        let d = try GivenDataPipelineTests.npyDataset(dir)
        let out = dir + "/audit"
        let r = try CLI.run(["sanitize", "--train-images", d["train_images"]!.stringValue!, "--train-labels", d["train_labels"]!.stringValue!,
                             "--test-images", d["test_images"]!.stringValue!, "--test-labels", d["test_labels"]!.stringValue!,
                             "--schedule", "quick", "--output", out, "--name", "audit", "--threads", "1"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("report:") && r.err.contains(out + "/report/report.md"), r.err)
        XCTAssertTrue(r.err.contains(out + "/unlearn/model.safetensors"), r.err)
        // the manifest it ran is in the run folder, and `abl run` on it finds every stage fresh
        let manifest = try Manifest.load(out + "/manifest.json")
        XCTAssertNil(manifest.config.attack)
        XCTAssertEqual(manifest.config.dataset.format, .npy)
        XCTAssertEqual(manifest.config.isolate.strategy, .targetAware)
        for f in ["report/report.json", "report/report.md", "report/report.html", "export/isolated/isolated.csv", "export/isolated/README.txt", "unlearn/model.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
        }
        let again = try CLI.run(["run", out + "/manifest.json"])
        XCTAssertEqual(again.code, 0, again.err)
        XCTAssertFalse(again.err.contains("ran in"), "a rerun found stale stages: \(again.err)")
        XCTAssertTrue(again.err.contains("fresh"), again.err)
    }

    func testWithoutATestSetDetectionIsOffAndSaidSo() throws {
        let dir = T.tempFolder()
        let d = try GivenDataPipelineTests.npyDataset(dir)
        let r = try CLI.run(["sanitize", "--train-images", d["train_images"]!.stringValue!, "--train-labels", d["train_labels"]!.stringValue!,
                             "--output", dir + "/audit", "--manifest-only"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("detection is off"), r.err)
        let m = try Manifest.load(dir + "/audit/manifest.json")
        XCTAssertEqual(m.config.isolate.detection, .off)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/audit/ingest"), "--manifest-only runs nothing")
    }

    func testBadInputExitsNonZeroNamingTheFile() throws {
        let dir = T.tempFolder()
        let d = try GivenDataPipelineTests.npyDataset(dir)
        try NPY.write(float32: [Float](repeating: 0.5, count: 120 * 64), shape: [120, 8, 8], to: dir + "/float.npy")
        let r = try CLI.run(["sanitize", "--train-images", dir + "/float.npy", "--train-labels", d["train_labels"]!.stringValue!,
                             "--test-images", d["test_images"]!.stringValue!, "--test-labels", d["test_labels"]!.stringValue!, "--output", dir + "/audit"])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.err.contains(dir + "/float.npy") && r.err.contains("uint8"), r.err)
        let missing = try CLI.run(["sanitize", "--train-images", dir + "/nope.npy", "--train-labels", d["train_labels"]!.stringValue!, "--output", dir + "/a2"])
        XCTAssertEqual(missing.code, 2, missing.err)
        XCTAssertTrue(missing.err.contains("dataset.train_images") && missing.err.contains(dir + "/nope.npy"), missing.err)
        let usage = try CLI.run(["sanitize", "--output", dir + "/a3"])
        XCTAssertNotEqual(usage.code, 0)
        XCTAssertTrue(usage.err.contains("--train-images"), usage.err)
    }

    func testAnImageFolderPlanIsAValidManifestWithAbsolutePaths() throws {
        let dir = T.tempFolder()
        for (c, n) in [("cat", 3), ("dog", 3)] {
            try FileManager.default.createDirectory(atPath: "\(dir)/photos/\(c)", withIntermediateDirectories: true)
            for i in 0..<n { try PNGCodec.write(pixels: [UInt8](repeating: UInt8(i * 40), count: 48), width: 4, height: 4, channels: 3, to: "\(dir)/photos/\(c)/\(i).png") }
        }
        var plan = SanitizePlan(name: "audit", output: dir + "/run", input: .imageFolder(root: dir + "/photos", testDir: nil, testRatio: 0.34, channels: 3, height: 8, width: 8))
        plan.schedule = .quick
        let m = try Manifest.resolve(plan.manifest(), file: "m.json")
        XCTAssertEqual(m.config.dataset.format, .imageFolder)
        XCTAssertTrue(m.config.dataset.testFromTrainingData)
        XCTAssertEqual(m.config.isolate.detection, .off, "a test set carved from the suspect data is no reference")
        XCTAssertEqual(m.config.unlearn.finetuneEpochs, 3)
        XCTAssertNil(m.config.evaluation)
        XCTAssertEqual(StageGraph.stages(for: m).map(\.name), ["ingest", "isolate", "export", "unlearn", "report"])
        // relative paths become absolute, so the manifest in the run folder runs from anywhere
        let rel = SanitizePlan(name: "r", output: "out", input: .npy(trainImages: "x.npy", trainLabels: "y.npy", testImages: nil, testLabels: nil, testRatio: 0.1))
        XCTAssertEqual(rel.manifest()["dataset"]?["train_images"]?.stringValue, FileManager.default.currentDirectoryPath + "/x.npy")
        XCTAssertEqual(rel.manifest()["output"]?.stringValue, FileManager.default.currentDirectoryPath + "/out")
    }
}
