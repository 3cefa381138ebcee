import ABLNet
import CanonicalJSON
import XCTest
@testable import pipeline

final class StageCacheTests: XCTestCase {
    func setUpRun(_ dir: String, count: CountStage = CountStage(), extra: [String: JSON] = [:]) throws -> Runner {
        let m = try Manifest.resolve(T.manifest(dir, extra: extra), file: "m.json")
        return Runner(manifest: m, stages: [IngestStage(), count], quiet: true)
    }

    func states(_ r: Runner) throws -> [String: StageState] {
        Dictionary(uniqueKeysWithValues: try r.status().map { ($0.stage, $0.state) })
    }

    func testFirstRunRunsSecondIsCachedAndStatusSaysFresh() throws {
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        XCTAssertEqual(try states(r)["ingest"], .neverRun)
        XCTAssertEqual(try r.run().map(\.ran), [true, true])
        XCTAssertEqual(try r.run().map(\.ran), [false, false])
        XCTAssertEqual(try states(r), ["ingest": .fresh, "count": .fresh])
        let rec = StageRecord.read(folder: dir + "/run/ingest")!
        XCTAssertNotNil(rec.outputs["train_images.npy"])
        XCTAssertEqual(rec.cacheKey.count, 64)
        XCTAssertEqual(rec.inputs.keys.filter { $0.hasPrefix("file:") }.count, 4)
        XCTAssertEqual(rec.producedBy, ProducedBy.current, "the record names the binary and the CPU that computed it")
        XCTAssertTrue(rec.producedBy?.abl.contains(ToolVersion.commit) ?? false)
    }

    func testARecordWithoutProducerStillReadsAndKeepsItsKey() throws {
        // records written before `produced_by` existed stay valid: the field is not in the key
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        _ = try r.run()
        let path = dir + "/run/count/stage.json"
        var doc = try JSON.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        guard case .object(var o) = doc else { return XCTFail("stage.json is not an object") }
        XCTAssertNotNil(o["produced_by"])
        o["produced_by"] = nil
        doc = .object(o)
        try Data(doc.pretty.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(StageRecord.read(folder: dir + "/run/count")?.producedBy)
        XCTAssertEqual(try states(r)["count"], .fresh)
    }

    func testTrainingStagesKeyOnTheEngineNumericsFromVersionTwo() throws {
        // Every stage that runs the engine carries Engine.numericsVersion in its parameters
        // (so in its cache key) once it is above 1; at 1 the field is absent, which keeps the
        // keys of runs cached before it existed.
        let dir = T.tempFolder()
        let m = try Manifest.resolve(T.manifest(dir, extra: ["attack": .object(["kind": .string("blend")]), "isolate": .object(["ratio": .number(0.1)])]), file: "m.json")
        let engineStages: [any Stage] = [SurrogateStage(), PoisonStage(withSurrogate: true), IsolateStage(), UnlearnStage(), BaselineStage(onClean: false), BaselineStage(onClean: true)]
        for s in engineStages {
            let p = s.parameters(m)
            if Engine.numericsVersion > 1 {
                XCTAssertEqual(p["numerics"]?.intValue, Engine.numericsVersion, s.name)
            } else {
                XCTAssertNil(p["numerics"], s.name)
            }
        }
        XCTAssertNil(IngestStage().parameters(m)["numerics"], "ingest runs no network")
    }

    func testTrainingStagesKeyOnTheWorkerCount() throws {
        // the worker count fixes the order of the engine's reductions, so it changes the bits
        let dir = T.tempFolder()
        let attack: JSON = .object(["kind": .string("blend")])
        let isolate: JSON = .object(["ratio": .number(0.1)])
        let unset = try Manifest.resolve(T.manifest(dir, extra: ["attack": attack, "isolate": isolate]), file: "m.json")
        let given = try Manifest.resolve(T.manifest(dir, extra: ["attack": attack, "isolate": isolate, "model": .object(["threads": .number(3)])]), file: "m.json")
        for s in [SurrogateStage(), IsolateStage(), UnlearnStage(), BaselineStage(onClean: false)] as [any Stage] {
            XCTAssertEqual(s.parameters(unset)["engine_workers"]?.intValue, ProcessInfo.processInfo.activeProcessorCount, s.name)
            XCTAssertNil(s.parameters(given)["engine_workers"], "\(s.name): model.threads is in the key already")
            XCTAssertEqual(s.parameters(given)["model"]?["threads"]?.intValue, 3, s.name)
        }
        // the poison stage keys on no model section, so it always names the count
        XCTAssertEqual(PoisonStage(withSurrogate: true).parameters(unset)["engine_workers"]?.intValue, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(PoisonStage(withSurrogate: true).parameters(given)["engine_workers"]?.intValue, 3)
        XCTAssertNil(IngestStage().parameters(unset)["engine_workers"], "ingest runs no network")
    }

    func testTrainingStagesKeyOnTheBLASCore() throws {
        // another OpenBLAS core's sgemm sums in another order: a run folder carried to another
        // kind of CPU must be recomputed there
        let dir = T.tempFolder()
        let m = try Manifest.resolve(T.manifest(dir, extra: ["attack": .object(["kind": .string("blend")]), "isolate": .object(["ratio": .number(0.1)])]), file: "m.json")
        XCTAssertFalse(BLAS.coreName.isEmpty)
        for s in [SurrogateStage(), PoisonStage(withSurrogate: true), IsolateStage(), UnlearnStage(), BaselineStage(onClean: false)] as [any Stage] {
            XCTAssertEqual(s.parameters(m)["blas_core"]?.stringValue, BLAS.coreName, s.name)
        }
        XCTAssertNil(IngestStage().parameters(m)["blas_core"], "ingest runs no network")
    }

    func testCosmeticManifestEditDoesNotRerun() throws {
        let dir = T.tempFolder()
        try setUpRun(dir).run()
        // Same meaning, other spelling: explicit defaults, 1.0 for 1, different key order.
        let r2 = try setUpRun(dir, extra: ["seed": .number(1.0), "ingest": .object(["preview_folder": .string("preview"), "preview": .number(8.0)])])
        XCTAssertEqual(try r2.run().map(\.ran), [false, false])
    }

    func testParameterChangeMakesStaleWithReason() throws {
        let dir = T.tempFolder()
        try setUpRun(dir).run()
        let r2 = try setUpRun(dir, extra: ["ingest": .object(["preview": .number(2)])])
        XCTAssertEqual(try states(r2)["ingest"], .stale("parameters changed"))
        XCTAssertEqual(try states(r2)["count"], .stale("upstream ingest is not fresh"))
        XCTAssertEqual(try r2.run().map(\.ran), [true, true])
    }

    func testDownstreamEditDoesNotRerunUpstream() throws {
        let dir = T.tempFolder()
        try setUpRun(dir).run()
        let ingestRecord = StageRecord.read(folder: dir + "/run/ingest")!
        let r2 = try setUpRun(dir, count: CountStage(params: .object(["k": .number(2)])))
        XCTAssertEqual(try states(r2)["ingest"], .fresh)
        XCTAssertEqual(try states(r2)["count"], .stale("parameters changed"))
        XCTAssertEqual(try r2.run().map(\.ran), [false, true])
        XCTAssertEqual(StageRecord.read(folder: dir + "/run/ingest"), ingestRecord)
    }

    func testAlteredOrMissingOutputIsStaleAndRerunRestoresIt() throws {
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        try r.run()
        let h = FileHandle(forWritingAtPath: dir + "/run/ingest/train_labels.npy")!
        h.seekToEndOfFile(); h.write(Data([0])); h.closeFile()
        XCTAssertEqual(try states(r)["ingest"], .stale("output altered: train_labels.npy"))
        XCTAssertEqual(try states(r)["count"], .stale("upstream ingest is not fresh"))
        try r.run()
        XCTAssertEqual(try states(r)["ingest"], .fresh)
        try FileManager.default.removeItem(atPath: dir + "/run/ingest/preview/000_train-0.png")
        XCTAssertEqual(try states(r)["ingest"], .stale("output missing: preview/000_train-0.png"))
    }

    func testChangedSourceFileMakesIngestStale() throws {
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        try r.run()
        var labels = [UInt8](FileManager.default.contents(atPath: dir + "/tr-lab")!)
        labels[labels.count - 1] = 0
        T.write(labels, dir + "/tr-lab")
        let r2 = try setUpRun(dir)
        let st = try states(r2)["ingest"]!
        guard case .stale(let why) = st else { return XCTFail("\(st)") }
        XCTAssertTrue(why.hasPrefix("input changed") && why.contains("tr-lab"), why)
    }

    func testInterruptedStageLeavesNothingTrusted() throws {
        let dir = T.tempFolder()
        let good = try setUpRun(dir)
        try good.run()
        let goodCount = try String(contentsOfFile: dir + "/run/count/count.txt", encoding: .utf8)
        // A rerun with new parameters fails half-way: the old folder stays, still stale; no temp folder remains.
        let failing = try setUpRun(dir, count: CountStage(params: .object(["k": .number(3)]), failAfterWriting: true))
        XCTAssertThrowsError(try failing.run()) { e in XCTAssertTrue("\(e)".contains("simulated failure"), "\(e)") }
        XCTAssertEqual(try states(failing)["count"], .stale("parameters changed"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/run").filter { $0.hasPrefix(".tmp") || $0.hasPrefix(".old") }
        XCTAssertEqual(leftovers, [])
        XCTAssertEqual(try String(contentsOfFile: dir + "/run/count/count.txt", encoding: .utf8), goodCount)
        // A crash (no record written) leaves a folder that is never trusted.
        try FileManager.default.removeItem(atPath: dir + "/run/count/stage.json")
        XCTAssertEqual(try states(good)["count"], .stale("no valid stage.json"))
        // and a temp folder from a killed process is cleaned on the next run
        try FileManager.default.createDirectory(atPath: dir + "/run/.tmp-count-99999", withIntermediateDirectories: true)
        try good.run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/.tmp-count-99999"))
        XCTAssertEqual(try states(good)["count"], .fresh)
    }

    func testStageOptionRunsOnlyWhatItNeedsAndForceReexecutes() throws {
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        XCTAssertEqual(try r.run(target: "ingest").map(\.stage), ["ingest"])
        XCTAssertEqual(try states(r)["count"], .neverRun)
        XCTAssertEqual(try r.run(target: "count").map(\.ran), [false, true])
        let forced = try r.run(target: "count", force: true)
        XCTAssertEqual(forced.map(\.ran), [false, true])
        XCTAssertEqual(forced.last?.reason, "forced")
        XCTAssertThrowsError(try r.run(target: "nope")) { e in XCTAssertTrue("\(e)".contains("unknown stage")) }
    }

    func testBadSourceFailsWithFileNameAndLeavesNoArtifact() throws {
        let dir = T.tempFolder()
        let r = try setUpRun(dir)
        var img = [UInt8](FileManager.default.contents(atPath: dir + "/tr-img")!)
        img.removeLast(10)
        T.write(img, dir + "/tr-img")
        XCTAssertThrowsError(try r.run()) { e in
            XCTAssertTrue("\(e)".contains(dir + "/tr-img") && "\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/ingest"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/run").filter { $0.hasPrefix(".tmp") }, [])
    }
}

final class VolatileOutputTests: XCTestCase {
    /// A stage that writes a deterministic result and a wall time.
    struct Timed: Stage {
        let name = "timed"
        let upstream = ["ingest"]
        let formatVersion = 1
        func parameters(_ m: Manifest) -> JSON { .object([:]) }
        func externalInputs(_ m: Manifest) -> [String] { [] }
        func declaredOutputs(_ m: Manifest) -> [String] { ["result.txt", "timing.json"] }
        func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
        func run(_ ctx: StageContext) throws {
            try "42".write(toFile: ctx.workFolder + "/result.txt", atomically: true, encoding: .utf8)
            try "{\"t\": \(Date().timeIntervalSince1970)}".write(toFile: ctx.workFolder + "/timing.json", atomically: true, encoding: .utf8)
        }
    }

    struct After: Stage {
        let name = "after"
        let upstream = ["timed"]
        let formatVersion = 1
        func parameters(_ m: Manifest) -> JSON { .object([:]) }
        func externalInputs(_ m: Manifest) -> [String] { [] }
        func declaredOutputs(_ m: Manifest) -> [String] { ["x.txt"] }
        func run(_ ctx: StageContext) throws { try "x".write(toFile: ctx.workFolder + "/x.txt", atomically: true, encoding: .utf8) }
    }

    func testAForcedRerunWithIdenticalResultsLeavesDownstreamFresh() throws {
        let dir = T.tempFolder()
        let m = try Manifest.resolve(T.manifest(dir), file: "m.json")
        let r = Runner(manifest: m, stages: [IngestStage(), Timed(), After()], quiet: true)
        try r.run()
        try r.run(target: "timed", force: true)
        let states = Dictionary(uniqueKeysWithValues: try r.status().map { ($0.stage, $0.state) })
        XCTAssertEqual(states["after"], .fresh)
        // a volatile output is still integrity-checked
        try "tampered".write(toFile: dir + "/run/timed/timing.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: try r.status().map { ($0.stage, $0.state) })["timed"], .stale("output altered: timing.json"))
    }
}
