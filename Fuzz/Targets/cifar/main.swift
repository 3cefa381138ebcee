import Foundation
import FuzzDriver
import FuzzSupport
import PoisonForge

/// CIFAR binary batches: the first byte picks CIFAR-10, CIFAR-100 fine or CIFAR-100 coarse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    guard count > 0 else { return 0 }
    let path = ScratchFile.write(data + 1, count - 1)
    let variant: CIFARReader.Variant = data[0] % 3 == 0 ? .cifar10 : .cifar100
    _ = try? CIFARReader.read(files: [path], variant: variant, labelKind: data[0] % 3 == 2 ? .coarse : .fine, idPrefix: "f")
    return 0
}

Seeds.handle {
    let record10: [UInt8] = [3] + (0..<3072).map { UInt8($0 & 255) }
    let record100: [UInt8] = [4, 17] + (0..<3072).map { UInt8($0 * 3 & 255) }
    return [("cifar10", [0] + record10 + record10), ("cifar100-fine", [1] + record100), ("cifar100-coarse", [2] + record100)]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
