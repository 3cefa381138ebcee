import XCTest
@testable import PoisonForge

final class DatasetStoreTests: XCTestCase {
    func sampleDataset() -> Dataset {
        let train = DatasetSplit(height: 2, width: 2, channels: 1, pixels: Array(0..<12).map(UInt8.init), labels: [0, 1, 2],
                                 ids: ["a", "b", "c"], sources: ["f.idx"], sourceOf: [0, 0, 0], sourceIndex: [0, 1, 2],
                                 poison: PoisonInfo(poisoned: [false, true, false], originalLabels: [0, 2, 2], originalIndices: [0, 1, 2]))
        let test = DatasetSplit(height: 2, width: 2, channels: 1, pixels: [9, 9, 9, 9], labels: [1], ids: ["t"],
                                sources: ["x.png"], sourceOf: [0], sourceIndex: [-1])
        return Dataset(name: "tiny", classNames: ["x", "y", "z"], train: train, test: test)
    }

    func testRoundTripKeepsPixelsLabelsIdsProvenanceAndPoisonMetadata() throws {
        let dir = Fixtures.tempFolder()
        let files = try DatasetStore.write(sampleDataset(), to: dir)
        XCTAssertTrue(files.contains("train_poisoned.npy"))
        XCTAssertFalse(files.contains("test_poisoned.npy"))
        for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f) }
        XCTAssertEqual(try DatasetStore.read(from: dir), sampleDataset())
    }

    func testShapeMismatchBetweenFilesIsAnError() throws {
        let dir = Fixtures.tempFolder()
        try DatasetStore.write(sampleDataset(), to: dir)
        try NPY.write(int64: [0, 1], to: dir + "/train_labels.npy")
        XCTAssertThrowsError(try DatasetStore.read(from: dir)) { e in
            XCTAssertTrue("\(e)".contains("train_labels.npy"), "\(e)")
        }
    }

    func testAnImageSizeBeyondTheLimitIsAnErrorEvenForAnEmptySplit() {
        // 0 samples of 4e9 x 4e9 pixels: no bytes, but H * W * C would overflow
        let empty = DatasetSplit(height: 4_000_000_000, width: 4_000_000_000, channels: 1, pixels: [], labels: [], ids: [],
                                 sources: [], sourceOf: [], sourceIndex: [])
        XCTAssertThrowsError(try empty.validate(name: "huge", classCount: 3)) { e in
            XCTAssertTrue("\(e)".contains("huge") && "\(e)".contains("beyond 65536"), "\(e)")
        }
    }

    func testSubsetCarriesMetadata() {
        let s = sampleDataset().train.subset([2, 1])
        XCTAssertEqual(s.labels, [2, 1]); XCTAssertEqual(s.ids, ["c", "b"])
        XCTAssertEqual(s.poison?.poisoned, [false, true])
        XCTAssertEqual(Array(s.image(0)), [8, 9, 10, 11])
    }

    func testAdjustmentConvertsChannelsResizesAndLimits() throws {
        var adj = DatasetAdjustment()
        adj.channels = 3
        adj.height = 4; adj.width = 4
        adj.trainLimit = 2
        let out = try adj.apply(to: sampleDataset())
        XCTAssertEqual(out.train.count, 2)
        XCTAssertEqual(out.train.shapeString, "3x4x4")
        XCTAssertEqual(out.test.pixels, Array(repeating: 9, count: 48))
        adj.sizePolicy = .reject
        XCTAssertThrowsError(try adj.apply(to: sampleDataset()))
    }
}
