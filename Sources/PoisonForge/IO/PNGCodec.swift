import ABLNet
import CPNG
import Foundation

/// PNG encoding and decoding through libpng 1.6's simplified API (no setjmp needed).
public enum PNGCodec {
    /// Decodes PNG bytes to 8-bit pixels with `channels` (1 = gray, 3 = RGB; colour and
    /// alpha are converted by libpng). `path` only names the file in errors. An image of more
    /// than `maxPixels` pixels is an error, raised before its pixels are allocated.
    public static func decode(_ data: [UInt8], channels: Int, path: String,
                              maxPixels: Int = InputLimits.maxImagePixels) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { png_image_begin_read_from_memory(&img, $0.baseAddress, $0.count) }
        guard began != 0 else {
            let msg = message(&img)
            png_image_free(&img)
            throw DatasetError.badFormat(path: path, reason: "corrupt PNG: \(msg)")
        }
        img.format = channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
        let w = Int(img.width), h = Int(img.height)
        // The header alone can claim 2^31 x 2^31 pixels: checked before the buffer exists.
        let (pixelCount, overflow) = w.multipliedReportingOverflow(by: h)
        guard !overflow, pixelCount <= maxPixels else {
            png_image_free(&img)
            throw DatasetError.badFormat(path: path, reason: "PNG header declares \(w)x\(h) pixels, over the limit of \(maxPixels) pixels (raise it with the environment variable \(InputLimits.imagePixelsVariable))")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * channels)
        let ok = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&img, nil, $0.baseAddress, Int32(w * channels), nil)
        }
        guard ok != 0 else {
            let msg = message(&img)
            png_image_free(&img)
            throw DatasetError.badFormat(path: path, reason: "corrupt PNG: \(msg)")
        }
        png_image_free(&img)
        return (w, h, pixels)
    }

    /// Encodes 8-bit pixels (rows packed, `channels` 1 or 3) as PNG bytes.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> [UInt8] {
        guard pixels.count == width * height * channels, channels == 1 || channels == 3 else {
            throw DatasetError.invalid("PNG encode: \(pixels.count) bytes for a \(width)x\(height)x\(channels) image")
        }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(width)
        img.height = UInt32(height)
        img.format = channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
        var size: Int = 0
        let stride = Int32(width * channels)
        // First call measures, second writes.
        let measured = pixels.withUnsafeBytes {
            png_image_write_to_memory(&img, nil, &size, 0, $0.baseAddress, stride, nil)
        }
        guard measured != 0, size > 0 else {
            let msg = message(&img)
            png_image_free(&img)
            throw DatasetError.invalid("PNG encode failed: \(msg)")
        }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { png_image_write_to_memory(&img, dst.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok != 0 else {
            let msg = message(&img)
            png_image_free(&img)
            throw DatasetError.invalid("PNG encode failed: \(msg)")
        }
        png_image_free(&img)
        return Array(out[0..<size])
    }

    /// Writes one image as a PNG file (atomically).
    public static func write(pixels: [UInt8], width: Int, height: Int, channels: Int, to path: String) throws {
        let bytes = try encode(pixels: pixels, width: width, height: height, channels: channels)
        try AtomicFile.write(Data(bytes), to: path)
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
