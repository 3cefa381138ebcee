import XCTest
@testable import PoisonForge

final class NPYTests: XCTestCase {
    /// The header bytes against the format spec (numpy.lib.format, version 1.0).
    func testHeaderBytesFollowTheSpec() {
        let h = NPY.header(dtype: .uint8, shape: [60000, 28, 28, 1])
        XCTAssertEqual(Array(h[0..<6]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) // \x93NUMPY
        XCTAssertEqual(h[6], 1); XCTAssertEqual(h[7], 0)                        // version 1.0
        let len = Int(h[8]) | Int(h[9]) << 8                                     // little-endian uint16
        XCTAssertEqual(h.count, 10 + len)
        XCTAssertEqual(h.count % 64, 0)                                          // data aligned to 64
        XCTAssertEqual(h.last, 0x0A)                                             // ends with '\n'
        let dict = String(decoding: h[10...], as: UTF8.self)
        XCTAssertTrue(dict.hasPrefix("{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28, 1), }"), dict)
        let one = String(decoding: NPY.header(dtype: .int64, shape: [5])[10...], as: UTF8.self)
        XCTAssertTrue(one.contains("'descr': '<i8'") && one.contains("'shape': (5,)"), one)
    }

    func testRoundTripOfEveryDType() throws {
        let dir = Fixtures.tempFolder()
        try NPY.write(uint8: [1, 2, 3, 4, 5, 6], shape: [1, 2, 3, 1], to: dir + "/u.npy")
        try NPY.write(int64: [-1, 0, 1 << 40], to: dir + "/i.npy")
        try NPY.write(bool: [true, false, true], to: dir + "/b.npy")
        try NPY.write(float32: [0.5, -2, 3.25], to: dir + "/f.npy")
        let u = try NPY.read(dir + "/u.npy")
        XCTAssertEqual(u.shape, [1, 2, 3, 1]); XCTAssertEqual(u.uint8, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try NPY.read(dir + "/i.npy").int64, [-1, 0, 1 << 40])
        XCTAssertEqual(try NPY.read(dir + "/b.npy").bool, [true, false, true])
        XCTAssertEqual(try NPY.read(dir + "/f.npy").float32, [0.5, -2, 3.25])
    }

    func testTruncatedNPYIsRejected() throws {
        let dir = Fixtures.tempFolder()
        try NPY.write(int64: [1, 2, 3], to: dir + "/i.npy")
        var b = [UInt8](FileManager.default.contents(atPath: dir + "/i.npy")!)
        b.removeLast(4)
        Fixtures.write(b, to: dir + "/i.npy")
        XCTAssertThrowsError(try NPY.read(dir + "/i.npy")) { e in XCTAssertTrue("\(e)".contains("truncated"), "\(e)") }
    }

    /// numpy itself opens the files, when python3 with numpy is on the machine.
    func testNumpyLoadsWhatWeWrite() throws {
        let dir = Fixtures.tempFolder()
        try NPY.write(uint8: Array(0..<24), shape: [2, 3, 4, 1], to: dir + "/u.npy")
        try NPY.write(int64: [7, -8], to: dir + "/i.npy")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
        import sys
        try:
            import numpy as np
        except ImportError:
            sys.exit(77)
        a = np.load(sys.argv[1]); b = np.load(sys.argv[2])
        assert a.shape == (2, 3, 4, 1) and a.dtype == np.uint8 and int(a[1, 2, 3, 0]) == 23, a
        assert b.dtype == np.int64 and list(b) == [7, -8], b
        """, dir + "/u.npy", dir + "/i.npy"]
        do { try p.run() } catch { throw XCTSkip("python3 not available") }
        p.waitUntilExit()
        if p.terminationStatus == 77 { throw XCTSkip("numpy not installed") }
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
