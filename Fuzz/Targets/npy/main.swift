import Foundation
import FuzzDriver
import FuzzSupport
import PoisonForge

/// `.npy` reading, then every typed view of the array read; the any-dtype reader, its integer
/// conversion, and the readers of user datasets built on it (images, poison indicator).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let path = ScratchFile.write(data, count)
    if let a = try? NPY.read(path) {
        _ = a.uint8.count + a.int64.count + a.bool.count + a.float32.count
    }
    if let a = try? NPY.readAny(path) {
        _ = (try? a.integers())?.count
    }
    _ = (try? NPYDatasetReader.images(path, idPrefix: "f"))?.count
    _ = (try? PoisonIndicator.read(path, trainCount: 16))?.count
    return 0
}

Seeds.handle {
    func array(_ dtype: NPY.DType, _ shape: [Int], _ body: [UInt8]) -> [UInt8] { NPY.header(dtype: dtype, shape: shape) + body }
    return [("uint8", array(.uint8, [2, 3, 2, 1], (0..<12).map { UInt8($0) })), ("int64", array(.int64, [2], [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])),
            ("bool", array(.bool, [3], [1, 0, 1])), ("float32", array(.float32, [1], [0, 0, 128, 63])),
            ("int16be", [0x93] + Array("NUMPY".utf8) + [1, 0, 68, 0] + Array("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }".utf8) + [UInt8](repeating: 32, count: 10) + [10, 0, 3, 255, 255]),
            ("rgb", array(.uint8, [1, 2, 2, 3], [UInt8](repeating: 7, count: 12)))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
