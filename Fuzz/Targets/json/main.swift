import CanonicalJSON
import Foundation
import FuzzDriver
import FuzzSupport

/// The JSON parser that reads manifests (and checkpoint headers), then its writer on what it read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    if let v = try? JSON.parse(bytes: [UInt8](UnsafeBufferPointer(start: data, count: count))) {
        _ = try? JSON.parse(v.canonical)
    }
    return 0
}

Seeds.handle {
    [("manifest", Array(#"{"name": "q", "seed": 1, "dataset": {"format": "idx", "train_images": "a", "train_labels": "b"}, "attack": {"kind": "badnets", "rate": 0.1, "target": 0}, "isolate": {"ratio": 0.01}, "x": [1.5e-3, -2, true, false, null, "\u00e9\n"]}"#.utf8)),
     ("header", Array(#"{"fc.weight":{"dtype":"F32","shape":[3,64],"data_offsets":[0,768]},"__metadata__":{"format":"pt"}}"#.utf8))]
}

exit(abl_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
