import CanonicalJSON
import Foundation

/// The parsed and checked header of a safetensors file: every entry well formed, every size
/// computed with checked arithmetic, every data range inside the file and no two ranges
/// overlapping. It says nothing yet about whether the tensors fit a model.
struct SafeTensorsHeader {
    struct Entry {
        let dtype: String
        let shape: [Int]
        /// Byte range inside the data section.
        let begin: Int
        let end: Int
    }

    /// Bytes per element of the dtypes the format defines.
    static let elementSizes: [String: Int] = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
                                              "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1]

    let entries: [String: Entry]
    let metadata: [String: String]
    /// The whole file and where its data section starts.
    let file: [UInt8]
    let dataStart: Int

    /// Reads and checks the header of `path`. Errors are `ABLNetError.checkpointFormat`, naming the file.
    init(path: String, maxHeaderBytes: Int) throws {
        func bad(_ r: String) -> ABLNetError { .checkpointFormat(path: path, reason: r) }
        do { file = try InputFile.read(path) } catch let e as InputFileError { throw bad(e.reason) }
        guard file.count >= 8 else { throw bad("shorter than the 8-byte header length (\(file.count) bytes)") }
        let len = file.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard len <= UInt64(maxHeaderBytes) else { throw bad("header length \(len) exceeds \(maxHeaderBytes) bytes") }
        guard 8 + Int(len) <= file.count else { throw bad("header length \(len) runs past the end of the file (\(file.count) bytes)") }
        dataStart = 8 + Int(len)
        let json: JSON
        do { json = try JSON.parse(bytes: Array(file[8..<dataStart])) } catch { throw bad("header is not valid JSON: \(error)") }
        guard let header = json.objectValue else { throw bad("header is not a JSON object") }
        var meta: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let o = m.objectValue else { throw bad("__metadata__ is not an object") }
            for (k, v) in o {
                guard let s = v.stringValue else { throw bad("__metadata__.\(k) is not a string") }
                meta[k] = s
            }
        }
        metadata = meta
        let bodySize = file.count - dataStart
        var out: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            out[name] = try SafeTensorsHeader.entry(name, value, bodySize: bodySize, bad: bad)
        }
        // Two tensors never share bytes.
        let ranges = out.map { (name: $0.key, e: $0.value) }.filter { $0.e.end > $0.e.begin }
            .sorted { ($0.e.begin, $0.name) < ($1.e.begin, $1.name) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.e.begin < a.e.end {
            throw bad("tensors \(a.name) (bytes \(a.e.begin)..<\(a.e.end)) and \(b.name) (bytes \(b.e.begin)..<\(b.e.end)) overlap")
        }
        entries = out
    }

    /// One header entry, checked: `{"dtype": "F32", "shape": [ints], "data_offsets": [begin, end]}`.
    private static func entry(_ name: String, _ value: JSON, bodySize: Int, bad: (String) -> ABLNetError) throws -> Entry {
        guard let o = value.objectValue else { throw bad("\(name): entry is not an object") }
        guard let dtype = o["dtype"]?.stringValue else { throw bad("\(name): dtype is missing or not a string") }
        guard let size = elementSizes[dtype] else { throw bad("\(name): unknown dtype \(dtype)") }
        let shape = try integers(o["shape"], "\(name): shape", bad: bad)
        let offs = try integers(o["data_offsets"], "\(name): data_offsets", bad: bad)
        guard offs.count == 2 else { throw bad("\(name): data_offsets has \(offs.count) entries, not 2") }
        guard offs[0] <= offs[1], offs[1] <= bodySize else {
            throw bad("\(name): data offsets \(offs) outside the data section (\(bodySize) bytes)")
        }
        var bytes = size
        for d in shape {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("\(name): shape \(shape) overflows") }
            bytes = p
        }
        guard offs[1] - offs[0] == bytes else {
            throw bad("\(name): data offsets \(offs) hold \(offs[1] - offs[0]) bytes, but \(dtype) \(shape) needs \(bytes)")
        }
        return Entry(dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
    }

    /// A JSON array whose every element is a non-negative integer.
    private static func integers(_ value: JSON?, _ what: String, bad: (String) -> ABLNetError) throws -> [Int] {
        guard let a = value?.arrayValue else { throw bad("\(what) is missing or not an array") }
        return try a.map { v in
            guard let i = v.intValue, i >= 0 else { throw bad("\(what) holds \(v.canonical), not a non-negative integer") }
            return i
        }
    }

    /// The bytes of one entry.
    func bytes(of e: Entry) -> ArraySlice<UInt8> { file[(dataStart + e.begin)..<(dataStart + e.end)] }
}
