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
        let (header, _, _) = try readHeader(path)
        return header["__metadata__"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
    }

    private static func readHeader(_ path: String) throws -> ([String: JSON], Data, Int) {
        func bad(_ r: String) -> ABLNetError { .checkpoint(path: path, reason: r) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw bad(FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        guard data.count >= 8 else { throw bad("not a safetensors file (shorter than 8 bytes)") }
        let len = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard len <= UInt64(maxHeaderBytes) else { throw bad("header length \(len) exceeds \(maxHeaderBytes) bytes") }
        guard 8 + Int(len) <= data.count else { throw bad("header length \(len) runs past the end of the file (\(data.count) bytes)") }
        let json: JSON
        do { json = try JSON.parse(bytes: [UInt8](data[8..<(8 + Int(len))])) } catch { throw bad("header is not valid JSON: \(error)") }
        guard let header = json.objectValue else { throw bad("header is not a JSON object") }
        return (header, data, 8 + Int(len))
    }

    /// Loads a checkpoint into `net`, checking every tensor's name, dtype, shape and offsets
    /// against the model; any missing, unexpected or malformed entry is an error and leaves the
    /// network unchanged.
    public static func load(into net: Network, from path: String) throws {
        func bad(_ r: String) -> ABLNetError { .checkpoint(path: path, reason: r) }
        let (header, data, start) = try readHeader(path)
        let expected = stateDict(net)
        let names = Set(header.keys).subtracting(["__metadata__"])
        let missing = expected.map(\.name).filter { !names.contains($0) }
        let unexpected = names.subtracting(expected.map(\.name)).sorted()
        guard missing.isEmpty, unexpected.isEmpty else {
            throw bad("does not match \(net.architecture): missing \(missing.prefix(5)) unexpected \(unexpected.prefix(5))")
        }
        let bodySize = data.count - start
        var staged: [(String, Data)] = []
        for t in expected {
            guard let e = header[t.name], let dtype = e["dtype"]?.stringValue,
                  let shape = e["shape"]?.arrayValue?.compactMap(\.intValue),
                  let offs = e["data_offsets"]?.arrayValue?.compactMap(\.intValue), offs.count == 2 else {
                throw bad("\(t.name): malformed header entry")
            }
            guard dtype == t.dtype else { throw bad("\(t.name): dtype \(dtype), the model needs \(t.dtype)") }
            guard shape == t.shape else { throw bad("\(t.name): shape \(shape), the model needs \(t.shape)") }
            guard offs[0] >= 0, offs[1] >= offs[0], offs[1] <= bodySize else {
                throw bad("\(t.name): data offsets \(offs) outside the data (\(bodySize) bytes)")
            }
            guard offs[1] - offs[0] == t.bytes.count else {
                throw bad("\(t.name): \(offs[1] - offs[0]) bytes for \(t.bytes.count) expected")
            }
            staged.append((t.name, data.subdata(in: (start + offs[0])..<(start + offs[1]))))
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
