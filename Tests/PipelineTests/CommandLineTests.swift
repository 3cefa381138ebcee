import ABLNet
import Foundation
import XCTest

/// The `abl` binary itself: exit codes and messages.
final class CommandLineTests: XCTestCase {
    var abl: String {
        // The test bundle sits beside the products: .build/<config>/ABLToolkitPackageTests.xctest
        let products = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        return products.appendingPathComponent("abl").path
    }

    func run(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: abl) else { throw XCTSkip("abl binary not found at \(abl)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: abl)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

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
        let first = try run(["run", dir + "/m.json"])
        XCTAssertEqual(first.code, 0, first.err)
        XCTAssertTrue(first.err.contains("ingest: ran"), first.err)
        let second = try run(["run", dir + "/m.json"])
        XCTAssertTrue(second.err.contains("ingest: cached"), second.err)
        XCTAssertTrue(try run(["status", dir + "/m.json"]).out.contains("fresh"))
    }

    func testMissingManifestFileIsAClearError() throws {
        let r = try run(["run", "/nonexistent/m.json"])
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.err.contains("/nonexistent/m.json") && r.err.contains("no such file"), r.err)
    }
}
