import ABLNet
import Foundation
import XCTest
@testable import PoisonForge

/// Inputs a fuzzing campaign found: each gives an error naming the file and the cause; none traps,
/// hangs or allocates what the header claims before checking it.
final class HostileInputTests: XCTestCase {
    func testIDXHeaderWithHugeDimensionsIsAnErrorNotATrap() {
        let path = Fixtures.tempFolder() + "/huge-images"
        Fixtures.write([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3], to: path)
        XCTAssertThrowsError(try IDXReader.readImages(path)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("overflows"), "\(e)")
        }
        Fixtures.write([0, 0, 8, 3] + Fixtures.be32(0x10000) + Fixtures.be32(0x10000) + Fixtures.be32(3) + [1, 2], to: path)
        XCTAssertThrowsError(try IDXReader.readImages(path)) { e in XCTAssertTrue("\(e)".contains("truncated"), "\(e)") }
    }

    func testIDXWithZeroImagesIsRejected() {
        let dir = Fixtures.tempFolder()
        Fixtures.write(Fixtures.idxImages(count: 0, height: 8, width: 8), to: dir + "/img")
        Fixtures.write(Fixtures.idxLabels([]), to: dir + "/lab")
        XCTAssertThrowsError(try IDXReader.readImages(dir + "/img")) { e in XCTAssertTrue("\(e)".contains("0 images"), "\(e)") }
        XCTAssertThrowsError(try IDXReader.readLabels(dir + "/lab")) { e in XCTAssertTrue("\(e)".contains("0 labels"), "\(e)") }
    }

    func testGzipFollowedByJunkIsRejectedButConcatenatedMembersAreRead() throws {
        let dir = Fixtures.tempFolder()
        let path = dir + "/labels.gz"
        Fixtures.writeGzip(Fixtures.idxLabels([0, 1, 2]), to: path)
        let member = [UInt8](FileManager.default.contents(atPath: path)!)
        Fixtures.write(member + Array("junk!".utf8), to: path)
        XCTAssertThrowsError(try IDXReader.readLabels(path)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("5 bytes of junk"), "\(e)")
        }
        // gzip -d reads concatenated members as one stream: so does the reader.
        Fixtures.writeGzip(Array(Fixtures.idxLabels([0, 1, 2, 1]).prefix(10)), to: dir + "/a.gz")
        Fixtures.writeGzip(Array(Fixtures.idxLabels([0, 1, 2, 1]).dropFirst(10)), to: dir + "/b.gz")
        Fixtures.write([UInt8](FileManager.default.contents(atPath: dir + "/a.gz")!) + [UInt8](FileManager.default.contents(atPath: dir + "/b.gz")!), to: path)
        XCTAssertEqual(try IDXReader.readLabels(path), [0, 1, 2, 1])
    }

    func testGzipBombBeyondTheLimitIsRejected() {
        let path = Fixtures.tempFolder() + "/bomb.gz"
        Fixtures.writeGzip([UInt8](repeating: 0, count: 4 << 20), to: path)
        XCTAssertThrowsError(try GzipFile.read(path, limit: 1 << 20)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains(InputLimits.inputBytesVariable), "\(e)")
        }
    }

    func testIDXLabelsMustBeClassesWithTrainingImages() {
        let dir = Fixtures.tempFolder()
        let p = Fixtures.idxDataset(in: dir, gzip: false)
        // A label of 200 in training: 196 classes would have no image.
        Fixtures.write(Fixtures.idxLabels((0..<40).map { $0 == 7 ? 200 : $0 % 4 }), to: p.1)
        let src = DatasetSource.idx(trainImages: p.0, trainLabels: p.1, testImages: p.2, testLabels: p.3, classNames: nil)
        XCTAssertThrowsError(try src.load(name: "x")) { e in
            XCTAssertTrue("\(e)".contains(p.1) && "\(e)".contains("no training image has label 4"), "\(e)")
        }
        // A test label that no training image has.
        Fixtures.write(Fixtures.idxLabels((0..<40).map { $0 % 4 }), to: p.1)
        Fixtures.write(Fixtures.idxLabels((0..<20).map { $0 == 3 ? 9 : $0 % 4 }), to: p.3)
        XCTAssertThrowsError(try src.load(name: "x")) { e in
            XCTAssertTrue("\(e)".contains(p.3) && "\(e)".contains("test label 9"), "\(e)")
        }
        // With class names, a label past them.
        let named = DatasetSource.idx(trainImages: p.0, trainLabels: p.1, testImages: p.2, testLabels: p.3, classNames: ["a", "b", "c"])
        XCTAssertThrowsError(try named.load(name: "x")) { e in XCTAssertTrue("\(e)".contains(p.1) && "\(e)".contains("label 3"), "\(e)") }
    }

    func testPNGHeaderClaimingHugeSizeIsRejectedBeforeAllocating() throws {
        var png = try PNGCodec.encode(pixels: [UInt8](repeating: 9, count: 4 * 4 * 3), width: 4, height: 4, channels: 3)
        // IHDR width and height (bytes 16..<24), then its CRC (bytes 29..<33) recomputed.
        png.replaceSubrange(16..<24, with: Fixtures.be32(100_000) + Fixtures.be32(100_000))
        png.replaceSubrange(29..<33, with: Fixtures.be32(Int(Fixtures.crc32(Array(png[12..<29])))))
        XCTAssertThrowsError(try PNGCodec.decode(png, channels: 3, path: "big.png")) { e in
            XCTAssertTrue("\(e)".contains("big.png") && "\(e)".contains("100000x100000") && "\(e)".contains(InputLimits.imagePixelsVariable), "\(e)")
        }
        XCTAssertThrowsError(try PNGCodec.decode(try PNGCodec.encode(pixels: [UInt8](repeating: 9, count: 48), width: 4, height: 4, channels: 3),
                                                 channels: 3, path: "small.png", maxPixels: 15))
    }

    func testJPEGOverThePixelLimitIsRejected() throws {
        let jpg = try JPEGCodec.encode(pixels: Fixtures.rgbImage(width: 16, height: 16, seed: 1), width: 16, height: 16, channels: 3)
        XCTAssertThrowsError(try JPEGCodec.decode(jpg, channels: 3, path: "p.jpg", maxPixels: 255)) { e in
            XCTAssertTrue("\(e)".contains("p.jpg") && "\(e)".contains("16x16"), "\(e)")
        }
    }

    func testCMYKJPEGDecodesToRGBAndGray() throws {
        // Adobe-inverted CMYK (as Photoshop writes it) for the RGB colour (200, 100, 50).
        var cmyk = [UInt8]()
        for _ in 0..<(16 * 16) { cmyk += [200, 100, 50, 255] }
        let jpg = try JPEGCodec.encode(pixels: cmyk, width: 16, height: 16, channels: 4, quality: 100)
        let rgb = try JPEGCodec.decode(jpg, channels: 3, path: "cmyk.jpg")
        XCTAssertEqual(rgb.pixels.count, 16 * 16 * 3)
        for (i, want) in [200, 100, 50].enumerated() { XCTAssertEqual(Double(rgb.pixels[i]), Double(want), accuracy: 3) }
        let gray = try JPEGCodec.decode(jpg, channels: 1, path: "cmyk.jpg")
        let luma: Double = (299 * 200 + 587 * 100 + 114 * 50) / 1000
        XCTAssertEqual(Double(gray.pixels[0]), luma, accuracy: 3)
    }

    func testYCCKJPEGDecodesToRGB() throws {
        // the same colour stored as YCCK (Adobe's transform of CMYK): libjpeg converts it back
        var cmyk = [UInt8]()
        for _ in 0..<(16 * 16) { cmyk += [200, 100, 50, 255] }
        let jpg = try JPEGCodec.encode(pixels: cmyk, width: 16, height: 16, channels: 4, quality: 100, ycck: true)
        // the frame header's component ids and the Adobe marker's transform byte say YCCK: check the file is one
        let adobe = jpg.indices.dropLast(12).first { jpg[$0] == 0xFF && jpg[$0 + 1] == 0xEE }
        XCTAssertNotNil(adobe, "no Adobe segment")
        if let a = adobe { XCTAssertEqual(jpg[a + 15], 2, "Adobe transform 2 (YCCK)") }
        let rgb = try JPEGCodec.decode(jpg, channels: 3, path: "ycck.jpg")
        for (i, want) in [200, 100, 50].enumerated() { XCTAssertEqual(Double(rgb.pixels[i]), Double(want), accuracy: 4) }
    }

    func testImageFolderEntriesThatAreNotRegularFilesAreErrorsNotHangs() throws {
        let root = Fixtures.tempFolder()
        try FileManager.default.createDirectory(atPath: root + "/cat", withIntermediateDirectories: true)
        for (name, target) in [("zero.png", "/dev/zero"), ("random.jpg", "/dev/urandom")] {
            let link = root + "/cat/" + name
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            XCTAssertThrowsError(try ImageFolderReader.loadImage(link, channels: 3, height: 4, width: 4, policy: .resize)) { e in
                XCTAssertTrue("\(e)".contains(link) && "\(e)".contains("character device") && "\(e)".contains(target), "\(e)")
            }
            try FileManager.default.removeItem(atPath: link)
        }
        let fifo = root + "/cat/pipe.png"
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try ImageFolderReader.loadImage(fifo, channels: 3, height: 4, width: 4, policy: .resize)) { e in
            XCTAssertTrue("\(e)".contains(fifo) && "\(e)".contains("FIFO"), "\(e)")
        }
        XCTAssertThrowsError(try CIFARReader.read(files: [fifo], variant: .cifar10, idPrefix: "t")) { e in XCTAssertTrue("\(e)".contains("FIFO"), "\(e)") }
        XCTAssertThrowsError(try NPY.read(fifo)) { e in XCTAssertTrue("\(e)".contains("FIFO"), "\(e)") }
    }

    func testFilesOverTheInputLimitAreRefused() throws {
        let path = Fixtures.tempFolder() + "/big.bin"
        Fixtures.write([UInt8](repeating: 1, count: 4096), to: path)
        XCTAssertThrowsError(try InputFile.read(path, limit: 1000)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("4096 bytes") && "\(e)".contains(InputLimits.inputBytesVariable), "\(e)")
        }
        XCTAssertEqual(try InputFile.read(path).count, 4096)
    }

    func testNPYShapeThatOverflowsIsAnError() {
        let path = Fixtures.tempFolder() + "/x.npy"
        let head = NPY.header(dtype: .float32, shape: [4_611_686_018_427_387_904, 4])
        Fixtures.write(head + [0, 0, 0, 0], to: path)
        XCTAssertThrowsError(try NPY.read(path)) { e in XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("overflows"), "\(e)") }
    }
}
