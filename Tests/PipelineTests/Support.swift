import ABLNet
import CZlib
import CanonicalJSON
import Foundation
import XCTest
@testable import pipeline

enum T {
    static func tempFolder(_ name: String = #function) -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "abl-pipe-\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    static func write(_ bytes: [UInt8], _ path: String) { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "could not write \(path)") }

    /// A small IDX dataset (train 30, test 10 by default, 6x6, 3 classes); returns the dataset section.
    static func idxSection(in dir: String, train: Int = 30, test: Int = 10) -> JSON {
        func images(_ n: Int) -> [UInt8] {
            var b: [UInt8] = [0, 0, 8, 3] + be32(n) + be32(6) + be32(6)
            for i in 0..<(n * 36) { b.append(UInt8((i * 5) & 255)) }
            return b
        }
        func labels(_ n: Int) -> [UInt8] { [0, 0, 8, 1] + be32(n) + (0..<n).map { UInt8($0 % 3) } }
        if !FileManager.default.fileExists(atPath: dir + "/tr-img") { // written once per folder
            write(images(train), dir + "/tr-img"); write(labels(train), dir + "/tr-lab")
            write(images(test), dir + "/te-img"); write(labels(test), dir + "/te-lab")
        }
        return .object(["format": .string("idx"), "train_images": .string(dir + "/tr-img"), "train_labels": .string(dir + "/tr-lab"),
                        "test_images": .string(dir + "/te-img"), "test_labels": .string(dir + "/te-lab")])
    }

    /// A valid manifest over the small IDX dataset, its run folder inside `dir` (an isolation
    /// ratio that isolates samples of its 30 training images).
    static func manifest(_ dir: String, extra: [String: JSON] = [:]) -> JSON {
        var o: [String: JSON] = ["name": .string("t"), "seed": .number(1), "output": .string(dir + "/run"), "dataset": idxSection(in: dir),
                                 "isolate": .object(["ratio": .number(0.1)])]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    static func writeManifest(_ j: JSON, _ path: String) { write(Array(j.pretty.utf8), path) }
}

/// A downstream stage for tests: reads the ingest stage, writes a count, parameters given.
struct CountStage: Stage {
    let name = "count"
    let upstream = ["ingest"]
    let formatVersion = 1
    var params: JSON = .object(["k": .number(1)])
    var failAfterWriting = false
    nonisolated(unsafe) static var runs = 0

    func parameters(_ m: Manifest) -> JSON { params }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["count.txt"] }
    func run(_ ctx: StageContext) throws {
        CountStage.runs += 1
        let labels = try String(contentsOfFile: ctx.upstreamFolder("ingest") + "/dataset.json", encoding: .utf8)
        try "\(labels.count)".write(toFile: ctx.workFolder + "/count.txt", atomically: true, encoding: .utf8)
        if failAfterWriting { throw StageError.failed(stage: name, reason: "simulated failure") }
    }
}

/// The `abl` binary built beside the tests, and a way to run it.
enum CLI {
    static var abl: String {
        // The test bundle sits beside the products: .build/<config>/ABLToolkitPackageTests.xctest
        let products = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        return products.appendingPathComponent("abl").path
    }

    static func run(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
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
}
