import ABLNet
import CanonicalJSON
import Foundation
import XCTest
@testable import pipeline

/// The run folder is the tool's own: a user's files are never deleted or replaced, a damaged
/// stage is rerun, and a full disk is said in words.
final class RunFolderTests: XCTestCase {
    func runner(_ dir: String, output: String, stages: [any Stage]? = nil) throws -> Runner {
        let m = try Manifest.resolve(T.manifest(dir, extra: ["output": .string(output)]), file: "m.json")
        return Runner(manifest: m, stages: stages ?? [IngestStage(), CountStage()], quiet: true)
    }

    func testOutputThatIsAnExistingFileIsAClearErrorAndTheFileIsKept() throws {
        let dir = T.tempFolder()
        T.write(Array("mine".utf8), dir + "/notes")
        XCTAssertThrowsError(try runner(dir, output: dir + "/notes").run()) { e in
            let msg = "\(e)"
            // refused when the manifest is validated, naming the key
            XCTAssertTrue(msg.contains("output: must not be an existing file"), msg)
            XCTAssertFalse(msg.contains("NSCocoaErrorDomain"), msg)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/notes"), Data("mine".utf8))
    }

    func testAnExistingFolderThatIsNotARunIsRefusedAndItsFilesKept() throws {
        let dir = T.tempFolder()
        let out = dir + "/mine"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        T.write(Array("thesis".utf8), out + "/ingest") // named like a stage
        XCTAssertThrowsError(try runner(dir, output: out).run()) { e in
            XCTAssertTrue("\(e)".contains("`output`") && "\(e)".contains("not an abl run folder"), "\(e)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/ingest"), Data("thesis".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["ingest"])
    }

    func testAnEmptyFolderIsAdoptedAndUserFilesInARunFolderSurviveReruns() throws {
        let dir = T.tempFolder()
        let out = dir + "/empty"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let r = try runner(dir, output: out)
        XCTAssertEqual(try r.run().map(\.ran), [true, true])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + RunFolder.recordName))
        for name in ["notes.txt", ".tmp-mine", ".old-ingest-abc"] { T.write(Array(name.utf8), out + "/" + name) }
        XCTAssertEqual(try r.run(force: true).map(\.ran), [true, true])
        for name in ["notes.txt", ".tmp-mine", ".old-ingest-abc"] {
            XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + name), Data(name.utf8), name)
        }
    }

    func testAUserFileNamedLikeAStageInARunFolderIsNeverReplaced() throws {
        let dir = T.tempFolder()
        let out = dir + "/run"
        let r = try runner(dir, output: out, stages: [IngestStage()])
        try r.run()
        let withCount = try runner(dir, output: out)
        T.write(Array("keep".utf8), out + "/count")
        XCTAssertThrowsError(try withCount.run()) { e in
            XCTAssertTrue("\(e)".contains(out + "/count") && "\(e)".contains("not created by abl"), "\(e)")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/count"), Data("keep".utf8))
    }

    func testAStageOutputReplacedByAFolderIsStaleAndTheRunRepairsIt() throws {
        let dir = T.tempFolder()
        let r = try runner(dir, output: dir + "/run")
        try r.run()
        let out = dir + "/run/ingest/train_labels.npy"
        try FileManager.default.removeItem(atPath: out)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let state = try r.status().first { $0.stage == "ingest" }!.state
        XCTAssertEqual(state, .stale("output damaged: train_labels.npy is a folder, not a regular file"))
        XCTAssertEqual(try r.run().map(\.ran), [true, false]) // ingest reproduces its outputs: count stays fresh
        XCTAssertTrue(InputFile.isRegular(out))
        XCTAssertEqual(try r.status().map(\.state), [.fresh, .fresh])
    }

    func testAFullDiskIsSaidInWordsNamingTheFileAndStage() throws {
        let dir = T.tempFolder()
        let r = try runner(dir, output: dir + "/run", stages: [IngestStage(), FullDiskStage()])
        XCTAssertThrowsError(try r.run()) { e in
            XCTAssertEqual("\(e)", "no space left on device while writing big.bin of stage full")
        }
        XCTAssertEqual(try r.status().last?.state, .neverRun)
    }

    func testAtomicWritesReportAFullDisk() throws {
        let path = T.tempFolder() + "/x.bin"
        XCTAssertThrowsError(try AtomicFile.write(to: path) { _ in
            try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full")).write(contentsOf: Data(count: 1 << 16))
        }) { e in
            XCTAssertEqual("\(e)", "\(path): cannot write: no space left on device")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}

/// A stage whose output lands on a full device (a link to /dev/full, which fails every write with ENOSPC).
struct FullDiskStage: Stage {
    let name = "full"
    let upstream = ["ingest"]
    let formatVersion = 1
    func parameters(_ m: Manifest) -> JSON { .object([:]) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["big.bin"] }
    func run(_ ctx: StageContext) throws {
        try FileManager.default.createSymbolicLink(atPath: ctx.workFolder + "/big.bin", withDestinationPath: "/dev/full")
        try Data(count: 1 << 16).write(to: URL(fileURLWithPath: ctx.workFolder + "/big.bin"))
    }
}
