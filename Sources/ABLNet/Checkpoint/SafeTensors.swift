import CanonicalJSON
import Foundation

/// Checkpoints in the safetensors format with PyTorch `state_dict` names, so that
/// `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` accepts them.
///
/// Layout: an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`
/// (padded with spaces to a multiple of 8), then the tensors' bytes back to back.
public enum SafeTensors {
    /// Largest header accepted when loading (the format's own limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// The named tensors of a network's state_dict: parameters, BatchNorm running statistics
    /// and `num_batches_tracked` (int64), in state_dict order.
    static func stateDict(_ net: Network) -> [(name: String, dtype: String, shape: [Int], bytes: Data)] {
        var out: [(String, String, [Int], Data)] = []
        func f32(_ t: Tensor) -> Data { Data(bytes: t.data, count: t.count * 4) }
        for (prefix, layer) in net.layers {
            for (name, p) in layer.parameters(prefix: prefix) { out.append((name, "F32", p.value.shape, f32(p.value))) }
            // BatchNorm buffers follow their parameters, as in PyTorch.
            var bns: [(String, BatchNorm2D)] = []
            if let bn = layer as? BatchNorm2D { bns = [(prefix, bn)] }
            if let b = layer as? PreActBlock { bns = b.batchNorms(prefix: prefix) }
            for (p, bn) in bns {
                out.append((p + "running_mean", "F32", [bn.channels], f32(bn.runningMean)))
                out.append((p + "running_var", "F32", [bn.channels], f32(bn.runningVar)))
                var n = Int64(bn.numBatchesTracked).littleEndian
                out.append((p + "num_batches_tracked", "I64", [], Data(bytes: &n, count: 8)))
            }
        }
        return out
    }

    /// Writes the network to `path` (atomically).
    public static func save(_ net: Network, to path: String, metadata: [String: String] = [:]) throws {
        let tensors = stateDict(net)
        var header: [String: JSON] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = .object(["dtype": .string(t.dtype), "shape": .array(t.shape.map { .number(Double($0)) }),
                                      "data_offsets": .array([.number(Double(offset)), .number(Double(offset + t.bytes.count))])])
            offset += t.bytes.count
        }
        var meta = metadata
        meta["format"] = "pt"
        meta["architecture"] = net.architecture
        meta["input_channels"] = String(net.inputChannels)
        meta["num_classes"] = String(net.numClasses)
        header["__metadata__"] = .object(meta.mapValues(JSON.string))
        var text = Array(JSON.object(header).canonical.utf8)
        while text.count % 8 != 0 { text.append(0x20) }
        var len = UInt64(text.count).littleEndian
        try AtomicFile.write(to: path) { h in
            try h.write(contentsOf: Data(bytes: &len, count: 8))
            try h.write(contentsOf: Data(text))
            for t in tensors { try h.write(contentsOf: t.bytes) }
        }
    }

    /// The `__metadata__` of a file (architecture, input channels, classes...), header validated.
    public static func metadata(at path: String) throws -> [String: String] {
        try SafeTensorsHeader(path: path, maxHeaderBytes: maxHeaderBytes).metadata
    }

    /// Loads a checkpoint into `net`. The file's format is checked first (errors say what is
    /// wrong with the file: `ABLNetError.checkpointFormat`), then every tensor's name, dtype and
    /// shape against the model (`ABLNetError.checkpoint`), then the values: weights must be
    /// finite and running variances non-negative. Any error leaves the network unchanged.
    public static func load(into net: Network, from path: String) throws {
        let header = try SafeTensorsHeader(path: path, maxHeaderBytes: maxHeaderBytes)
        func misfit(_ r: String) -> ABLNetError { .checkpoint(path: path, reason: r) }
        func bad(_ r: String) -> ABLNetError { .checkpointFormat(path: path, reason: r) }
        let expected = stateDict(net)
        let names = Set(header.entries.keys)
        let missing = expected.map(\.name).filter { !names.contains($0) }
        let unexpected = names.subtracting(expected.map(\.name)).sorted()
        guard missing.isEmpty, unexpected.isEmpty else {
            throw misfit("does not match \(net.architecture): missing \(missing.prefix(5)) unexpected \(unexpected.prefix(5))")
        }
        var staged: [(String, Data)] = []
        for t in expected {
            let e = header.entries[t.name]!
            guard e.dtype == t.dtype else { throw misfit("\(t.name): dtype \(e.dtype), the model needs \(t.dtype)") }
            guard e.shape == t.shape else { throw misfit("\(t.name): shape \(e.shape), the model needs \(t.shape)") }
            let bytes = Data(header.bytes(of: e))
            if t.dtype == "F32" {
                let values = bytes.withUnsafeBytes { raw in (0..<(bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw bad("\(t.name) holds \(values[i]) at element \(i): weights must be finite")
                }
                if t.name.hasSuffix("running_var"), let i = values.firstIndex(where: { $0 < 0 }) {
                    throw bad("\(t.name) holds \(values[i]) at element \(i): a running variance cannot be negative")
                }
            } else if t.name.hasSuffix("num_batches_tracked") {
                let n = bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
                guard n >= 0 else { throw bad("\(t.name) is \(n): a count cannot be negative") }
            }
            staged.append((t.name, bytes))
        }
        // Everything checked: copy in.
        let bytes = Dictionary(uniqueKeysWithValues: staged)
        func copy(_ name: String, _ t: Tensor) {
            bytes[name]!.withUnsafeBytes { raw in
                for i in 0..<t.count { t.data[i] = raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
            }
        }
        for (prefix, layer) in net.layers {
            for (name, p) in layer.parameters(prefix: prefix) { copy(name, p.value) }
            var bns: [(String, BatchNorm2D)] = []
            if let bn = layer as? BatchNorm2D { bns = [(prefix, bn)] }
            if let b = layer as? PreActBlock { bns = b.batchNorms(prefix: prefix) }
            for (p, bn) in bns {
                copy(p + "running_mean", bn.runningMean)
                copy(p + "running_var", bn.runningVar)
                bn.numBatchesTracked = Int(bytes[p + "num_batches_tracked"]!.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) })
            }
        }
    }
}
