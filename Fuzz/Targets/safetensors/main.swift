import ABLNet
import Foundation
import FuzzDriver
import FuzzSupport

/// A safetensors checkpoint: its metadata, then a load into a small CNN (1 channel, 3 classes).
enum Model {
    nonisolated(unsafe) static let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 3, seed: 0, engine: EngineSettings())
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let path = ScratchFile.write(data, count)
    _ = try? SafeTensors.metadata(at: path)
    _ = try? SafeTensors.load(into: Model.net, from: path)
    return 0
}

Seeds.handle {
    let path = ScratchFile.path + ".seed"
    defer { unlink(path) }
    try SafeTensors.save(Model.net, to: path)
    return [("small-cnn", [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
