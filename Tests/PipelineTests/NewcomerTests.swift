import ABLNet
import CanonicalJSON
import Foundation
import XCTest
@testable import pipeline

/// What a newcomer meets first: the version, file names of previews, log volume, machine facts.
final class NewcomerTests: XCTestCase {
    func testVersionNamesTheReleaseAndTheCommitOfTheSourceTree() throws {
        XCTAssertTrue(ToolVersion.description.hasPrefix(ToolVersion.number + " (commit "), ToolVersion.description)
        let commit = ToolVersion.commit
        XCTAssertTrue(commit == "unknown" || (commit.count == 12 && commit.allSatisfy(\.isHexDigit)), commit)
        // built inside a git checkout (as the tests are): the commit is that checkout's HEAD
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", root, "rev-parse", "--short=12", "HEAD"]
        let out = Pipe()
        git.standardOutput = out
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { throw XCTSkip("git not available") }
        let head = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        git.waitUntilExit()
        guard git.terminationStatus == 0 else { throw XCTSkip("not a git checkout") }
        XCTAssertEqual(commit, head)
    }

    func testPreviewNamesDropTheSourceExtension() {
        XCTAssertEqual(IngestStage.pngName("color/astronaut.png"), "color_astronaut.png")
        XCTAssertEqual(IngestStage.pngName("cats/IMG_001.JPEG"), "cats_IMG_001.png")
        XCTAssertEqual(IngestStage.pngName("train/00042"), "train_00042.png")
        XCTAssertEqual(IngestStage.pngName("a.b/c.tar"), "a.b_c.tar.png") // not an image extension: kept
        XCTAssertEqual(IngestStage.pngName("dir/.png"), "dir_.png.png")   // a hidden file's name is all stem
    }

    func testPlainProgressPrintsAtTheEndAndEvery30Seconds() {
        let p = Progress("epoch 1", total: 100, terminal: false)
        let t0 = Date()
        XCTAssertFalse(p.plainLineDue(10, now: t0))
        XCTAssertFalse(p.plainLineDue(50, now: t0.addingTimeInterval(5)))
        XCTAssertTrue(p.plainLineDue(60, now: t0.addingTimeInterval(Progress.plainInterval + 1)))
        XCTAssertTrue(p.plainLineDue(100, now: t0))
    }
}

extension CommandLineTests {
    /// `abl bench` names the build and the CPU beside its figures.
    func testBenchNamesVersionCommitAndCPU() throws {
        let r = try run(["bench", "--model", "small-cnn", "--batch", "4", "--steps", "1", "--inputs", "1x8x8", "--json"])
        XCTAssertEqual(r.code, 0, r.err)
        let o = try JSON.parse(bytes: Array(r.out.split(separator: "\n")[0].utf8))
        XCTAssertEqual(o["abl"]?.stringValue, ToolVersion.number)
        XCTAssertEqual(o["commit"]?.stringValue, ToolVersion.commit)
        XCTAssertNotNil(o["cpu"]?.stringValue)
        XCTAssertNotNil(o["cpu_features"]?.stringValue)
        let text = try run(["bench", "--model", "small-cnn", "--batch", "4", "--steps", "1", "--inputs", "1x8x8"])
        XCTAssertTrue(text.out.hasPrefix("abl \(ToolVersion.number) (commit "), text.out)
    }
}

extension CommandLineTests {
    /// `abl bench --layers`: one line per distinct 3x3 convolution and BatchNorm shape, with the
    /// number of layers of that shape (WRN-16-1: 6 convolution shapes, 4 BatchNorm ones).
    func testBenchLayersTimesEachDistinctShapeOnce() throws {
        let r = try run(["bench", "--layers", "--model", "wrn-16-1", "--batch", "2", "--calls", "1", "--inputs", "1x8x8", "--threads", "1", "--json"])
        XCTAssertEqual(r.code, 0, r.err)
        let rows = try r.out.split(separator: "\n").map { try JSON.parse(bytes: Array($0.utf8)) }
        let convs = rows.filter { $0["kind"]?.stringValue == "conv3x3" }, norms = rows.filter { $0["kind"]?.stringValue == "batchnorm" }
        XCTAssertEqual(convs.map { $0["shape"]?.stringValue ?? "" },
                       ["1->16 8x8 s1", "16->16 8x8 s1", "16->32 8x8 s2", "32->32 4x4 s1", "32->64 4x4 s2", "64->64 2x2 s1"])
        XCTAssertEqual(convs.map { $0["layers"]?.intValue ?? 0 }, [1, 4, 1, 3, 1, 3])
        XCTAssertEqual(norms.map { $0["layers"]?.intValue ?? 0 }, [5, 4, 3, 1])
        // the first layer computes no input gradient; every other one reports both gradients
        XCTAssertNil(convs[0]["input_grad_ms"])
        for c in convs.dropFirst() { XCTAssertNotNil(c["input_grad_ms"]); XCTAssertNotNil(c["backward_ms"]) }
        for o in rows { XCTAssertNotNil(o["forward_ms"]?.doubleValue); XCTAssertNotNil(o["weight_grad_ms"]?.doubleValue) }
    }
}
