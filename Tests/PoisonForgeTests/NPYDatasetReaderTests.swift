import XCTest
@testable import PoisonForge

/// The `.npy` dataset reader on what numpy users hand over, and on what they should not.
final class NPYDatasetReaderTests: XCTestCase {
    /// An .npy file of any descr, written byte for byte as numpy lays it out.
    static func npy(_ descr: String, _ shape: [Int], _ body: [UInt8], fortran: Bool = false) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
        let total = (10 + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - 10 - dict.utf8.count - 1) + "\n"
        let n = dict.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 255), UInt8(n >> 8)] + Array(dict.utf8) + body
    }

    /// Little-endian bytes of Int32 values.
    static func i32(_ v: [Int]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: Int32(x).littleEndian) { Array($0) } } }

    var dir = ""
    override func setUp() { dir = Fixtures.tempFolder() }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        Fixtures.write(bytes, to: dir + "/" + name)
        return dir + "/" + name
    }

    /// 12 training images 4x4 gray (labels 0,1,2 repeating, int32) and 6 test images.
    func validFiles() -> (String, String, String, String) {
        (write("tr_x.npy", Self.npy("|u1", [12, 4, 4], (0..<192).map { UInt8($0 & 255) })),
         write("tr_y.npy", Self.npy("<i4", [12], Self.i32((0..<12).map { $0 % 3 }))),
         write("te_x.npy", Self.npy("|u1", [6, 4, 4], [UInt8](repeating: 9, count: 96))),
         write("te_y.npy", Self.npy("<i4", [6], Self.i32((0..<6).map { $0 % 3 }))))
    }

    func read(_ f: (String, String, String, String), names: [String]? = nil) throws -> Dataset {
        try NPYDatasetReader.read(trainImages: f.0, trainLabels: f.1, test: .files(images: f.2, labels: f.3), classNames: names, name: "npy")
    }

    func assertRefused(_ f: (String, String, String, String), names: [String]? = nil, naming path: String, _ words: String...,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(f, names: names), file: file, line: line) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains(path), "message does not name \(path): \(m)", file: file, line: line)
            for w in words { XCTAssertTrue(m.contains(w), "message lacks \"\(w)\": \(m)", file: file, line: line) }
        }
    }

    func testReadsGrayAndColourImagesWithLabelsOfAnyIntegerDType() throws {
        let ds = try read(validFiles())
        XCTAssertEqual(ds.train.count, 12); XCTAssertEqual(ds.test.count, 6)
        XCTAssertEqual(ds.train.shapeString, "1x4x4")
        XCTAssertEqual(ds.train.labels, (0..<12).map { $0 % 3 })
        XCTAssertEqual(ds.classNames, ["class0", "class1", "class2"])
        XCTAssertEqual(Array(ds.train.image(1)), (16..<32).map { UInt8($0) })
        XCTAssertEqual(ds.train.provenance(5), dir + "/tr_x.npy#5")
        // N,H,W,3 colour; big-endian int16 labels shaped N,1; uint8 labels
        var f = validFiles()
        f.0 = write("c_x.npy", Self.npy("|u1", [12, 2, 2, 3], [UInt8](repeating: 1, count: 144)))
        f.2 = write("c_tx.npy", Self.npy("|u1", [6, 2, 2, 3], [UInt8](repeating: 2, count: 72)))
        f.1 = write("be_y.npy", Self.npy(">i2", [12, 1], (0..<12).flatMap { [UInt8(0), UInt8($0 % 3)] }))
        f.3 = write("u8_y.npy", Self.npy("|u1", [6], (0..<6).map { UInt8($0 % 3) }))
        let c = try read(f, names: ["a", "b", "c"])
        XCTAssertEqual(c.train.shapeString, "3x2x2")
        XCTAssertEqual(c.train.labels, (0..<12).map { $0 % 3 })
        XCTAssertEqual(c.test.labels, (0..<6).map { $0 % 3 })
        XCTAssertEqual(c.classNames, ["a", "b", "c"])
    }

    func testBadFilesAreRefusedNamingTheFileAndTheCause() {
        var f = validFiles()
        f.0 = write("magic.npy", Array("PK\u{3}\u{4} not numpy".utf8))
        assertRefused(f, naming: "magic.npy", "wrong magic")

        f = validFiles()
        var cut = Self.npy("|u1", [12, 4, 4], (0..<192).map { UInt8($0 & 255) })
        cut.removeLast(10)
        f.0 = write("cut.npy", cut)
        assertRefused(f, naming: "cut.npy", "truncated")

        f = validFiles()
        f.0 = write("be.npy", Self.npy(">u2", [12, 4, 4], [UInt8](repeating: 0, count: 384)))
        assertRefused(f, naming: "be.npy", "uint8", "uint16")

        f = validFiles()
        f.0 = write("float.npy", Self.npy("<f4", [12, 4, 4], [UInt8](repeating: 0, count: 768)))
        assertRefused(f, naming: "float.npy", "uint8", "float32", "* 255")

        f = validFiles()
        f.1 = write("short.npy", Self.npy("<i4", [11], Self.i32((0..<11).map { $0 % 3 })))
        assertRefused(f, naming: "short.npy", "11 labels for 12 images")

        f = validFiles()
        f.1 = write("range.npy", Self.npy("<i4", [12], Self.i32((0..<12).map { $0 == 4 ? 7 : $0 % 3 })))
        assertRefused(f, names: ["a", "b", "c"], naming: "range.npy", "label 7")

        f = validFiles()
        f.1 = write("neg.npy", Self.npy("<i4", [12], Self.i32((0..<12).map { $0 == 4 ? -1 : $0 % 3 })))
        assertRefused(f, naming: "neg.npy", "label -1")

        f = validFiles()
        f.3 = write("unseen.npy", Self.npy("<i4", [6], Self.i32([0, 1, 2, 0, 1, 5])))
        assertRefused(f, names: ["a", "b", "c", "d", "e", "f"], naming: "unseen.npy", "test label 5", "no training image")

        f = validFiles()
        f.1 = write("object.npy", Self.npy("|O", [12], [UInt8](repeating: 0, count: 96)))
        assertRefused(f, naming: "object.npy", "object arrays")

        f = validFiles()
        f.0 = write("fortran.npy", Self.npy("|u1", [12, 4, 4], [UInt8](repeating: 0, count: 192), fortran: true))
        assertRefused(f, naming: "fortran.npy", "Fortran")

        f = validFiles()
        f.0 = write("chw.npy", Self.npy("|u1", [12, 3, 4, 4], [UInt8](repeating: 0, count: 576)))
        assertRefused(f, naming: "chw.npy", "channel-first")

        f = validFiles()
        f.1 = write("floatlabels.npy", Self.npy("<f8", [12], [UInt8](repeating: 0, count: 96)))
        assertRefused(f, naming: "floatlabels.npy", "integers are needed")

        f = validFiles()
        f.2 = write("size.npy", Self.npy("|u1", [6, 5, 5], [UInt8](repeating: 0, count: 150)))
        assertRefused(f, naming: "size.npy", "1x5x5", "1x4x4")

        f = validFiles()
        f.1 = write("huge.npy", Self.npy("<i8", [12], (0..<12).flatMap { i in withUnsafeBytes(of: Int64(i == 3 ? 1 << 40 : i % 3).littleEndian) { Array($0) } }))
        assertRefused(f, naming: "huge.npy", "label 1099511627776")
    }

    func testATestShareIsCarvedPerClassFromTheTrainingFile() throws {
        let f = validFiles()
        let ds = try NPYDatasetReader.read(trainImages: f.0, trainLabels: f.1, test: .share(ratio: 0.25, seed: 3), classNames: nil, name: "npy")
        XCTAssertEqual(ds.test.count, 3)   // round(0.25 * 4) of each of 3 classes
        XCTAssertEqual(ds.train.count, 9)
        XCTAssertEqual(Set(ds.test.labels), [0, 1, 2])
        XCTAssertEqual(Set(ds.train.sourceIndex).union(ds.test.sourceIndex), Set(0..<12))
        XCTAssertTrue(Set(ds.train.sourceIndex).isDisjoint(with: ds.test.sourceIndex))
        // the training samples' rows among the given ones, for per-row files such as a poison indicator
        XCTAssertEqual(ds.givenRows, GivenRows(count: 12, trainRows: ds.train.sourceIndex))
        let separate = try NPYDatasetReader.read(trainImages: f.0, trainLabels: f.1, test: .files(images: f.2, labels: f.3), classNames: nil, name: "npy")
        XCTAssertNil(separate.givenRows)
    }

    func testPoisonIndicatorTakesFlagsOrIndices() throws {
        let flags = write("flags.npy", Self.npy("|b1", [5], [0, 1, 0, 0, 1]))
        XCTAssertEqual(try PoisonIndicator.read(flags, trainCount: 5), [false, true, false, false, true])
        let rows = write("rows.npy", Self.npy("<i4", [2], Self.i32([4, 1])))
        XCTAssertEqual(try PoisonIndicator.read(rows, trainCount: 5), [false, true, false, false, true])
        XCTAssertThrowsError(try PoisonIndicator.read(flags, trainCount: 6)) { XCTAssertTrue("\($0)".contains("5 flags for 6"), "\($0)") }
        let out = write("out.npy", Self.npy("<i4", [1], Self.i32([5])))
        XCTAssertThrowsError(try PoisonIndicator.read(out, trainCount: 5)) { XCTAssertTrue("\($0)".contains("index 5"), "\($0)") }
        let twice = write("twice.npy", Self.npy("<i4", [2], Self.i32([1, 1])))
        XCTAssertThrowsError(try PoisonIndicator.read(twice, trainCount: 5)) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
    }
}
