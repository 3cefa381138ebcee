import ABLNet
import CImageShim
import Foundation

/// JPEG encoding and decoding through libjpeg(-turbo), with errors caught in the C shim.
public enum JPEGCodec {
    /// Decodes JPEG bytes to 8-bit pixels with `channels` (1 = gray, 3 = RGB).
    /// CMYK and YCCK images are converted. Truncated or corrupt data is an error (libjpeg-turbo's
    /// warnings count as corruption); so is an image of more than `maxPixels` pixels, refused
    /// before its pixels are allocated.
    public static func decode(_ data: [UInt8], channels: Int, path: String,
                              maxPixels: Int = InputLimits.maxImagePixels) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var w: Int32 = 0, h: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in
                shim_jpeg_decode(src.baseAddress, src.count, Int32(channels), UInt64(maxPixels), &out, &w, &h, e.baseAddress, e.count)
            }
        }
        if rc == -2 {
            let msg = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DatasetError.badFormat(path: path, reason: "JPEG \(msg) (raise it with the environment variable \(InputLimits.imagePixelsVariable))")
        }
        guard rc == 0, let px = out else {
            let msg = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DatasetError.badFormat(path: path, reason: "corrupt JPEG: \(msg)")
        }
        defer { shim_free(px) }
        let n = Int(w) * Int(h) * channels
        return (Int(w), Int(h), Array(UnsafeBufferPointer(start: px, count: n)))
    }

    /// Encodes 8-bit pixels as JPEG bytes at `quality` (1...100); `channels` 1 (gray), 3 (RGB)
    /// or 4 (CMYK, inverted as Photoshop writes it, with an Adobe marker).
    /// `ycck`: 4-channel (CMYK) pixels are stored in the YCCK colour space, as Adobe applications do.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int, quality: Int = 95, ycck: Bool = false) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var len = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = pixels.withUnsafeBufferPointer { src in
            err.withUnsafeMutableBufferPointer { e in
                shim_jpeg_encode_ycck(src.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality), ycck ? 1 : 0,
                                      &out, &len, e.baseAddress, e.count)
            }
        }
        guard rc == 0, let data = out else {
            let msg = err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DatasetError.invalid("JPEG encode failed: \(msg)")
        }
        defer { shim_free(data) }
        return Array(UnsafeBufferPointer(start: data, count: len))
    }
}
