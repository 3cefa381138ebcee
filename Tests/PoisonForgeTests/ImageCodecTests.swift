import XCTest
@testable import PoisonForge

final class ImageCodecTests: XCTestCase {
    func testPNGRoundTripIsLossless() throws {
        let px = Fixtures.rgbImage(width: 13, height: 7, seed: 3)
        let bytes = try PNGCodec.encode(pixels: px, width: 13, height: 7, channels: 3)
        let back = try PNGCodec.decode(bytes, channels: 3, path: "mem.png")
        XCTAssertEqual(back.width, 13); XCTAssertEqual(back.height, 7); XCTAssertEqual(back.pixels, px)
        let gray = try PNGCodec.decode(try PNGCodec.encode(pixels: Array(repeating: 77, count: 9), width: 3, height: 3, channels: 1), channels: 1, path: "g.png")
        XCTAssertEqual(gray.pixels, Array(repeating: 77, count: 9))
    }

    func testJPEGRoundTripIsClose() throws {
        let px = Fixtures.rgbImage(width: 16, height: 16, seed: 0) // smooth: no wrap-around edge
        let back = try JPEGCodec.decode(try JPEGCodec.encode(pixels: px, width: 16, height: 16, channels: 3, quality: 95), channels: 3, path: "m.jpg")
        XCTAssertEqual(back.width, 16)
        let maxErr = zip(px, back.pixels).map { abs(Int($0) - Int($1)) }.max()!
        XCTAssertLessThan(maxErr, 24)
    }

    func testCorruptPNGAndJPEGGiveErrorsNamingTheFile() throws {
        let png = try PNGCodec.encode(pixels: Fixtures.rgbImage(width: 8, height: 8, seed: 0), width: 8, height: 8, channels: 3)
        XCTAssertThrowsError(try PNGCodec.decode(Array(png.prefix(png.count / 2)), channels: 3, path: "cut.png")) { e in
            XCTAssertTrue("\(e)".contains("cut.png") && "\(e)".contains("corrupt PNG"), "\(e)")
        }
        XCTAssertThrowsError(try PNGCodec.decode([1, 2, 3, 4], channels: 3, path: "junk.png"))
        let jpg = try JPEGCodec.encode(pixels: Fixtures.rgbImage(width: 32, height: 32, seed: 0), width: 32, height: 32, channels: 3)
        XCTAssertThrowsError(try JPEGCodec.decode(Array(jpg.prefix(jpg.count / 2)), channels: 3, path: "cut.jpg")) { e in
            XCTAssertTrue("\(e)".contains("cut.jpg") && "\(e)".contains("corrupt JPEG"), "\(e)")
        }
        XCTAssertThrowsError(try JPEGCodec.decode([0xFF, 0xD8, 0, 0, 0], channels: 3, path: "junk.jpg"))
    }

    func testBilinearResizeKeepsConstantsAndDownsamplesAverages() {
        XCTAssertEqual(Resize.bilinear(Array(repeating: 90, count: 16 * 3), width: 4, height: 4, channels: 3, toWidth: 7, toHeight: 5),
                       Array(repeating: 90, count: 35 * 3))
        // 2x2 -> 1x1 with half-pixel centres samples the centre: the mean of the four.
        XCTAssertEqual(Resize.bilinear([0, 100, 100, 200], width: 2, height: 2, channels: 1, toWidth: 1, toHeight: 1), [100])
    }
}
