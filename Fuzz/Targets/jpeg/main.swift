import Foundation
import FuzzDriver
import FuzzSupport
import PoisonForge

/// JPEG decoding (gray, RGB, CMYK, YCCK) to gray and to RGB; a small pixel limit keeps each run fast.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: count))
    for channels in [1, 3] { _ = try? JPEGCodec.decode(bytes, channels: channels, path: "fuzz.jpg", maxPixels: 1 << 22) }
    return 0
}

Seeds.handle {
    let rgb = (0..<(16 * 8 * 3)).map { UInt8($0 * 7 & 255) }
    let cmyk = (0..<(16 * 8 * 4)).map { UInt8($0 * 5 & 255) }
    return [("rgb", try JPEGCodec.encode(pixels: rgb, width: 16, height: 8, channels: 3, quality: 80)),
            ("gray", try JPEGCodec.encode(pixels: Array(rgb.prefix(128)), width: 16, height: 8, channels: 1, quality: 80)),
            ("cmyk", try JPEGCodec.encode(pixels: cmyk, width: 16, height: 8, channels: 4, quality: 80))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
