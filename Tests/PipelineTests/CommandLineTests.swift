import ABLNet
import CanonicalJSON
import Foundation
import XCTest
@testable import pipeline

/// The `abl` binary itself: exit codes and messages.
final class CommandLineTests: XCTestCase {
    var abl: String { CLI.abl }

    func run(_ args: [String]) throws -> (code: Int32, out: String, err: String) { try CLI.run(args) }

    func testValidateListsProblemsAndExitsNonZero() throws {
        let dir = T.tempFolder()
        T.write(Array("{\"name\": \"x\", \"dataset\": {\"format\": \"idx\"}, \"extra\": 1}".utf8), dir + "/m.json")
        let r = try run(["validate", dir + "/m.json"])
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.err.contains("extra: unknown key"), r.err)
        XCTAssertTrue(r.err.contains("dataset.train_images: is required"), r.err)
    }

    func testRunAndStatusOnASmallDataset() throws {
        let dir = T.tempFolder()
        T.writeManifest(T.manifest(dir), dir + "/m.json")
        XCTAssertEqual(try run(["validate", dir + "/m.json"]).code, 0)
        let first = try run(["run", dir + "/m.json", "--stage", "ingest"])
        XCTAssertEqual(first.code, 0, first.err)
        XCTAssertTrue(first.err.contains("ingest: ran"), first.err)
        let second = try run(["run", dir + "/m.json", "--stage", "ingest"])
        XCTAssertTrue(second.err.contains("ingest: cached"), second.err)
        XCTAssertTrue(try run(["status", dir + "/m.json"]).out.contains("fresh"))
    }

    func testVersionFlag() throws {
        let r = try run(["--version"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("abl \(ToolVersion.number) (commit "), r.out)
    }

    func testMissingManifestFileIsAClearError() throws {
        let r = try run(["run", "/nonexistent/m.json"])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.err.contains("/nonexistent/m.json") && r.err.contains("no such file"), r.err)
    }

    func testProbeScoresASurrogateAttackAndRefusesOneWithoutASurrogate() throws {
        let dir = T.tempFolder()
        let fc: [String: JSON] = ["kind": .string("fc"), "steps": .number(2), "patch_size": .number(2)]
        T.writeManifest(ABLStagesTests.smallRun(dir, extra: [
            "attack": .object(fc), "surrogate": .object(["architecture": .string("small-cnn"), "epochs": .number(1)]),
        ]), dir + "/m.json")
        let r = try run(["probe", dir + "/m.json", "--epochs", "2", "--output", dir + "/probe.json"])
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("poison: ran"), r.err)
        XCTAssertTrue(r.out.contains("| poisoned training set |") && r.out.contains("| clean training set |"), r.out)
        let j = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/probe.json") ?? Data()))
        for head in ["poisoned", "clean"] {
            let asr = j[head]?["asr"]?.doubleValue ?? -1, ca = j[head]?["ca"]?.doubleValue ?? -1
            XCTAssertTrue((0...1).contains(asr) && (0...1).contains(ca), "\(head): \(j)")
        }
        XCTAssertGreaterThan(j["class_spread"]?.doubleValue ?? 0, 0)

        let plain = T.tempFolder()
        T.writeManifest(ABLStagesTests.smallRun(plain), plain + "/m.json")
        let b = try run(["probe", plain + "/m.json"])
        XCTAssertNotEqual(b.code, 0)
        XCTAssertTrue(b.err.contains("trains no surrogate"), b.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain + "/run/poison"), "refused before running any stage")
    }

    func testBadInputExitsNonZeroWithTheKeyOrFileNamedNeverATrap() throws {
        let dir = T.tempFolder()
        T.write(Array("mine".utf8), dir + "/taken")
        T.writeManifest(T.manifest(dir, extra: ["output": .string(dir + "/taken")]), dir + "/m.json")
        let taken = try run(["run", dir + "/m.json"])
        XCTAssertEqual(taken.code, 2, "refused by validation")
        XCTAssertTrue(taken.err.contains("output: must not be an existing file") && !taken.err.contains("NSCocoaErrorDomain"), taken.err)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/taken"), Data("mine".utf8))
        // An IDX header whose dimensions are 0xFFFFFFFF.
        T.writeManifest(T.manifest(dir), dir + "/m.json")
        T.write([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [7], dir + "/tr-img")
        let huge = try run(["run", dir + "/m.json"])
        XCTAssertEqual(huge.code, 1, huge.err)
        XCTAssertTrue(huge.err.contains(dir + "/tr-img") && huge.err.contains("overflows"), huge.err)
    }
}
