import XCTest
@testable import PoisonForge

final class ImageFolderReaderTests: XCTestCase {
    func testTwoFoldersReadPNGAndJPEGWithSortedClasses() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir + "/train", perClass: 4)
        try Fixtures.imageFolder(in: dir + "/test", perClass: 2)
        let ds = try ImageFolderReader.read(trainRoot: dir + "/train", testRoot: dir + "/test", channels: 3, height: 8, width: 8, policy: .reject, name: "f")
        XCTAssertEqual(ds.classNames, ["a", "b"])
        XCTAssertEqual(ds.train.count, 8); XCTAssertEqual(ds.test.count, 4)
        XCTAssertEqual(ds.train.labels, [0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(ds.train.ids[0], "a/img0.png")
        XCTAssertEqual(ds.train.provenance(1), dir + "/train/a/img1.jpg")
        // the PNG decodes exactly
        XCTAssertEqual(Array(ds.train.image(0)), Fixtures.rgbImage(width: 8, height: 8, seed: 0))
        try ds.validate()
    }

    func testGrayscaleLoading() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir + "/t", perClass: 2)
        let ds = try ImageFolderReader.read(trainRoot: dir + "/t", testRoot: dir + "/t", channels: 1, height: 8, width: 8, policy: .reject, name: "g")
        XCTAssertEqual(ds.train.channels, 1)
        XCTAssertEqual(ds.train.pixels.count, 4 * 64)
    }

    func testSeededRatioSplitIsStratifiedAndDeterministic() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir, perClass: 10)
        let a = try ImageFolderReader.read(root: dir, testRatio: 0.3, seed: 5, channels: 3, height: 8, width: 8, policy: .reject, name: "s")
        let b = try ImageFolderReader.read(root: dir, testRatio: 0.3, seed: 5, channels: 3, height: 8, width: 8, policy: .reject, name: "s")
        let c = try ImageFolderReader.read(root: dir, testRatio: 0.3, seed: 6, channels: 3, height: 8, width: 8, policy: .reject, name: "s")
        XCTAssertEqual(a.test.count, 6)
        XCTAssertEqual(a.test.labels.filter { $0 == 0 }.count, 3)
        XCTAssertEqual(a.test.ids, b.test.ids)
        XCTAssertNotEqual(a.test.ids, c.test.ids)
        XCTAssertTrue(Set(a.test.ids).isDisjoint(with: Set(a.train.ids)))
        // each training image's row among the folder's images, sorted by class folder, then file name
        let whole = try ImageFolderReader.read(trainRoot: dir, testRoot: dir, channels: 3, height: 8, width: 8, policy: .reject, name: "w")
        XCTAssertNil(whole.givenRows)
        let given = try XCTUnwrap(a.givenRows)
        XCTAssertEqual(given.count, whole.train.count)
        XCTAssertEqual(given.trainRows.map { whole.train.ids[$0] }, a.train.ids)
    }

    func testOtherSizesAreResizedOrRejected() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir, perClass: 2, size: 12)
        let r = try ImageFolderReader.read(trainRoot: dir, testRoot: dir, channels: 3, height: 8, width: 8, policy: .resize, name: "r")
        XCTAssertEqual(r.train.pixels.count, 4 * 8 * 8 * 3)
        XCTAssertThrowsError(try ImageFolderReader.read(trainRoot: dir, testRoot: dir, channels: 3, height: 8, width: 8, policy: .reject, name: "r")) { e in
            XCTAssertTrue("\(e)".contains("12x12") && "\(e)".contains(dir + "/a/img0.png"), "\(e)")
        }
    }

    func testEmptyClassFolderIsAnError() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir, perClass: 2)
        try FileManager.default.createDirectory(atPath: dir + "/c", withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFolderReader.scan(dir)) { e in
            XCTAssertTrue("\(e)".contains(dir + "/c") && "\(e)".contains("no .png"), "\(e)")
        }
    }

    func testCorruptImageInFolderNamesTheFile() throws {
        let dir = Fixtures.tempFolder()
        try Fixtures.imageFolder(in: dir, perClass: 2)
        Fixtures.write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2], to: dir + "/b/broken.png")
        XCTAssertThrowsError(try ImageFolderReader.read(trainRoot: dir, testRoot: dir, channels: 3, height: 8, width: 8, policy: .reject, name: "c")) { e in
            XCTAssertTrue("\(e)".contains(dir + "/b/broken.png"), "\(e)")
        }
    }
}
