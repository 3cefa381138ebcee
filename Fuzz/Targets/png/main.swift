import Foundation
import FuzzDriver
import FuzzSupport
import PoisonForge

/// PNG decoding to gray and to RGB; a small pixel limit keeps each run fast.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: count))
    for channels in [1, 3] { _ = try? PNGCodec.decode(bytes, channels: channels, path: "fuzz.png", maxPixels: 1 << 22) }
    return 0
}

Seeds.handle {
    let rgb = (0..<(8 * 6 * 3)).map { UInt8($0 * 7 & 255) }
    return [("rgb", try PNGCodec.encode(pixels: rgb, width: 8, height: 6, channels: 3)),
            ("gray", try PNGCodec.encode(pixels: Array(rgb.prefix(48)), width: 8, height: 6, channels: 1))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
