import Foundation
import FuzzDriver
import FuzzSupport
import PoisonForge

/// IDX images and labels, raw or gzip: the first byte picks which reader sees the rest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    guard count > 0 else { return 0 }
    let path = ScratchFile.write(data + 1, count - 1)
    if data[0] & 1 == 0 { _ = try? IDXReader.readImages(path) } else { _ = try? IDXReader.readLabels(path) }
    return 0
}

Seeds.handle {
    let images: [UInt8] = [0, 0, 8, 3] + Seeds.be32(3) + Seeds.be32(4) + Seeds.be32(4) + (0..<48).map { UInt8($0 * 5 & 255) }
    let labels: [UInt8] = [0, 0, 8, 1] + Seeds.be32(3) + [0, 1, 2]
    return [("images", [0] + images), ("labels", [1] + labels), ("images-gz", [0] + Seeds.gzip(images)), ("labels-gz", [1] + Seeds.gzip(labels))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
