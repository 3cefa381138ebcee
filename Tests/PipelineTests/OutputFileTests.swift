import ABLNet
import CanonicalJSON
import XCTest
@testable import pipeline

/// Typed files go through Foundation's encoder and decoder and keep the canonical bytes.
final class OutputFileTests: XCTestCase {
    func testAJSONTreeRoundTripsWithItsTypes() throws {
        let tree = JSON.object(["one": .number(1), "yes": .bool(true), "half": .number(0.5), "none": .null,
                                "list": .array([.string("a"), .number(0)]), "nested": .object(["zero": .number(0), "no": .bool(false)])])
        XCTAssertEqual(try OutputFile.tree(tree), tree)
        XCTAssertEqual(try JSONDecoder().decode(JSON.self, from: Data(tree.canonical.utf8)), tree)
    }

    func testAStageRecordReadsBackAsWritten() throws {
        let dir = T.tempFolder()
        let record = StageRecord(stage: "s", cacheKey: "k", parameters: .object(["n": .number(1), "b": .bool(true)]), inputs: ["upstream:a": "d"],
                                 outputs: ["x.npy": "e"], formatVersion: 2, volatile: ["timing.json"], started: "t0", ended: "t1", durationSeconds: 1.23456)
        try AtomicFile.write(Data(try record.json.pretty.utf8), to: dir + "/" + StageRecord.fileName)
        var expected = record
        expected.durationSeconds = 1.235
        XCTAssertEqual(StageRecord.read(folder: dir), expected)
    }

    func testARecordWithADuplicateKeyIsNotTrusted() throws {
        let dir = T.tempFolder()
        T.write(Array("{\"stage\": \"s\", \"stage\": \"t\", \"cache_key\": \"k\", \"parameters\": {}, \"inputs\": {}, \"outputs\": {}, \"format_version\": 1}".utf8),
                dir + "/" + StageRecord.fileName)
        XCTAssertNil(StageRecord.read(folder: dir))
    }
}
