import XCTest
@testable import PoisonForge

final class CIFARReaderTests: XCTestCase {
    func testCIFAR10PlanarRecordsBecomeHWC() throws {
        let dir = Fixtures.tempFolder()
        let path = dir + "/data_batch_1.bin"
        Fixtures.write([3, 7, 1].flatMap { Fixtures.cifarRecord(label: $0) }, to: path)
        let s = try CIFARReader.read(files: [path], variant: .cifar10, idPrefix: "train")
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s.labels, [3, 7, 1])
        XCTAssertEqual(s.shapeString, "3x32x32")
        // sample 1 (label 7), pixel i = 5: R, G, B
        let base = 1 * 3072 + 5 * 3
        let r: Int = (7 * 31 + 5) & 255
        let g: Int = (7 * 31 + 7 + 5) & 255
        let b: Int = (7 * 31 + 14 + 5) & 255
        let expected: [UInt8] = [UInt8(r), UInt8(g), UInt8(b)]
        XCTAssertEqual(Array(s.pixels[base..<(base + 3)]), expected)
        XCTAssertEqual(s.provenance(2), path + "#2")
        XCTAssertEqual(s.ids, ["train-0", "train-1", "train-2"])
    }

    func testCIFAR100FineAndCoarseLabels() throws {
        let dir = Fixtures.tempFolder()
        let path = dir + "/train.bin"
        Fixtures.write(Fixtures.cifarRecord(label: 55, coarse: 4) + Fixtures.cifarRecord(label: 99, coarse: 19), to: path)
        XCTAssertEqual(try CIFARReader.read(files: [path], variant: .cifar100, labelKind: .fine, idPrefix: "t").labels, [55, 99])
        XCTAssertEqual(try CIFARReader.read(files: [path], variant: .cifar100, labelKind: .coarse, idPrefix: "t").labels, [4, 19])
    }

    func testClassNamesComeFromTheFileBesideTheBatchesAndAreAnInputOfIngest() throws {
        let dir = Fixtures.tempFolder()
        let batch = dir + "/data_batch_1.bin"
        Fixtures.write(Fixtures.cifarRecord(label: 1), to: batch)
        XCTAssertEqual(try CIFARReader.classNames(near: batch, variant: .cifar10, labelKind: .fine)?.first, "airplane")
        XCTAssertNil(try CIFARReader.classNames(near: batch, variant: .cifar100, labelKind: .fine))
        let source = DatasetSource.cifar(variant: .cifar10, label: .fine, trainFiles: [batch], testFiles: [batch])
        XCTAssertEqual(source.inputPaths, [batch, batch])
        Fixtures.write(Array("a\nb\n\nc\n".utf8), to: dir + "/batches.meta.txt")
        XCTAssertEqual(try CIFARReader.classNames(near: batch, variant: .cifar10, labelKind: .fine), ["a", "b", "c"])
        XCTAssertEqual(source.inputPaths, [batch, batch, dir + "/batches.meta.txt"])
        // a names file that is no regular file is refused by name, not read until it ends
        let other = Fixtures.tempFolder()
        XCTAssertEqual(mkfifo(other + "/batches.meta.txt", 0o600), 0)
        XCTAssertThrowsError(try CIFARReader.classNames(near: other + "/x.bin", variant: .cifar10, labelKind: .fine)) { e in
            XCTAssertTrue("\(e)".contains(other + "/batches.meta.txt"), "\(e)")
        }
    }

    func testShortBatchIsRejected() {
        let dir = Fixtures.tempFolder()
        let path = dir + "/short.bin"
        Fixtures.write(Fixtures.cifarRecord(label: 1) + Array(Fixtures.cifarRecord(label: 2).prefix(100)), to: path)
        XCTAssertThrowsError(try CIFARReader.read(files: [path], variant: .cifar10, idPrefix: "x")) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("truncated"), "\(e)")
        }
    }

    func testLabelOutOfRangeIsRejected() {
        let dir = Fixtures.tempFolder()
        let path = dir + "/bad.bin"
        Fixtures.write(Fixtures.cifarRecord(label: 12), to: path)
        XCTAssertThrowsError(try CIFARReader.read(files: [path], variant: .cifar10, idPrefix: "x")) { e in
            XCTAssertTrue("\(e)".contains("label 12"), "\(e)")
        }
    }
}
