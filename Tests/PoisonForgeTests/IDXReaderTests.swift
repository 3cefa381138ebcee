import XCTest
@testable import PoisonForge

final class IDXReaderTests: XCTestCase {
    func testReadsGzipAndRawIDXIdentically() throws {
        let dir = Fixtures.tempFolder()
        let gz = Fixtures.idxDataset(in: dir + "", gzip: true)
        let rawDir = dir + "/raw"
        try FileManager.default.createDirectory(atPath: rawDir, withIntermediateDirectories: true)
        let raw = Fixtures.idxDataset(in: rawDir, gzip: false)
        let a = try IDXReader.readImages(gz.0), b = try IDXReader.readImages(raw.0)
        XCTAssertEqual(a.count, 40); XCTAssertEqual(a.height, 8); XCTAssertEqual(a.width, 8)
        XCTAssertEqual(a.pixels, b.pixels)
        XCTAssertEqual(a.pixels, Array(Fixtures.idxImages(count: 40, height: 8, width: 8)[16...]))
        XCTAssertEqual(try IDXReader.readLabels(gz.1), (0..<40).map { $0 % 4 })
    }

    func testTruncatedIDXNamesFileAndSizes() {
        let dir = Fixtures.tempFolder()
        let path = dir + "/short-images"
        Fixtures.write(Array(Fixtures.idxImages(count: 10, height: 8, width: 8).dropLast(5)), to: path)
        XCTAssertThrowsError(try IDXReader.readImages(path)) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.contains(path), msg)
            XCTAssertTrue(msg.contains("truncated"), msg)
        }
    }

    func testWrongMagicIsRejected() {
        let dir = Fixtures.tempFolder()
        let path = dir + "/labels-as-images"
        Fixtures.write(Fixtures.idxLabels([1, 2, 3]), to: path)
        XCTAssertThrowsError(try IDXReader.readImages(path)) { e in
            XCTAssertTrue("\(e)".contains("dimensions"), "\(e)")
        }
        let garbage = dir + "/garbage"
        Fixtures.write([0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4], to: garbage)
        XCTAssertThrowsError(try IDXReader.readLabels(garbage)) { e in
            XCTAssertTrue("\(e)".contains("wrong IDX magic") && "\(e)".contains(garbage), "\(e)")
        }
    }

    func testCorruptGzipIsAnError() {
        let dir = Fixtures.tempFolder()
        let path = dir + "/x.gz"
        Fixtures.writeGzip(Fixtures.idxImages(count: 50, height: 8, width: 8), to: path)
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes = Array(bytes.prefix(bytes.count / 2))
        Fixtures.write(bytes, to: path)
        XCTAssertThrowsError(try IDXReader.readImages(path)) { e in XCTAssertTrue("\(e)".contains(path), "\(e)") }
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try IDXReader.readImages("/nonexistent/abl/file")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/abl/file") && "\(e)".contains("no such file"), "\(e)")
        }
    }
}
