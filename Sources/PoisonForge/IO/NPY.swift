import ABLNet
import Foundation

/// numpy's `.npy` format (version 1.0), so that `np.load` opens every array this project writes.
///
/// Layout: the magic `\x93NUMPY`, version bytes 1 and 0, a little-endian uint16 header length,
/// then an ASCII Python dict literal `{'descr': ..., 'fortran_order': False, 'shape': (...), }`
/// padded with spaces and ended by `\n` so that the data starts at a multiple of 64 bytes.
public enum NPY {
    /// Element types this project stores.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "|u1"
        case bool = "|b1"
        case int64 = "<i8"
        case float32 = "<f4"

        static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

        public var size: Int {
            switch self {
            case .uint8, .bool: return 1
            case .int64: return 8
            case .float32: return 4
            }
        }
    }

    /// The header bytes (magic through the padded dict) for an array of `dtype` and `shape`.
    public static func header(dtype: DType, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        let total = (unpadded + 63) / 64 * 64
        dict += String(repeating: " ", count: total - unpadded) + "\n"
        let len = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)] + Array(dict.utf8)
    }

    /// Writes raw little-endian element bytes with a header, atomically.
    public static func write(raw: UnsafeRawBufferPointer, dtype: DType, shape: [Int], to path: String) throws {
        let count = shape.reduce(1, *)
        guard raw.count == count * dtype.size else {
            throw DatasetError.invalid("\(path): \(raw.count) bytes do not fill shape \(shape) of \(dtype.rawValue)")
        }
        let head = header(dtype: dtype, shape: shape)
        try AtomicFile.write(to: path) { h in
            try h.write(contentsOf: Data(head))
            if raw.count > 0 { try h.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none)) }
        }
    }

    public static func write(uint8 values: [UInt8], shape: [Int], to path: String) throws {
        try values.withUnsafeBytes { try write(raw: $0, dtype: .uint8, shape: shape, to: path) }
    }

    public static func write(int64 values: [Int], shape: [Int]? = nil, to path: String) throws {
        let v = values.map { Int64($0).littleEndian }
        try v.withUnsafeBytes { try write(raw: $0, dtype: .int64, shape: shape ?? [values.count], to: path) }
    }

    public static func write(bool values: [Bool], to path: String) throws {
        let v = values.map { $0 ? UInt8(1) : UInt8(0) }
        try v.withUnsafeBytes { try write(raw: $0, dtype: .bool, shape: [values.count], to: path) }
    }

    public static func write(float32 values: [Float], shape: [Int]? = nil, to path: String) throws {
        try values.withUnsafeBytes { try write(raw: $0, dtype: .float32, shape: shape ?? [values.count], to: path) }
    }

    /// An array read back: its dtype, shape and raw little-endian data.
    public struct NPYArray {
        public let dtype: DType
        public let shape: [Int]
        public let data: Data

        public var uint8: [UInt8] { [UInt8](data) }
        public var int64: [Int] {
            data.withUnsafeBytes { raw in (0..<(data.count / 8)).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) } }
        }
        public var bool: [Bool] { data.map { $0 != 0 } }
        public var float32: [Float] {
            data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        }
    }

    /// Reads an `.npy` file written by this project or by numpy (C order; the dtypes above).
    public static func read(_ path: String) throws -> NPYArray {
        let raw = try readAny(path)
        guard let dtype = DType(rawValue: raw.element.descr) else {
            throw DatasetError.badFormat(path: path, reason: "unsupported dtype \(raw.element.descr) (this file should hold \(DType.allNames))")
        }
        return NPYArray(dtype: dtype, shape: raw.shape, data: raw.data)
    }

    /// Reads an `.npy` file of any numeric dtype numpy writes (bool, signed and unsigned
    /// integers, floats; either byte order; C order). Object, string, structured and
    /// Fortran-ordered arrays are refused with a message naming the file.
    public static func readAny(_ path: String) throws -> RawArray {
        let data = Data(try InputFile.dataset(path))
        guard data.count >= 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else {
            throw DatasetError.badFormat(path: path, reason: "not an .npy file (wrong magic)")
        }
        let major = data[data.startIndex + 6]
        let headerLen: Int, start: Int
        if major == 1 {
            headerLen = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            start = 10
        } else if major == 2 || major == 3 {
            guard data.count >= 12 else { throw DatasetError.truncated(path: path, expectedBytes: 12, actualBytes: data.count) }
            headerLen = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            start = 12
        } else {
            throw DatasetError.badFormat(path: path, reason: ".npy version \(major) is not supported")
        }
        guard data.count >= start + headerLen else {
            throw DatasetError.truncated(path: path, expectedBytes: start + headerLen, actualBytes: data.count)
        }
        let dict = String(decoding: data[(data.startIndex + start)..<(data.startIndex + start + headerLen)], as: UTF8.self)
        let shown = dict.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let descrText = field(dict, "descr") else { throw DatasetError.badFormat(path: path, reason: "no descr in the .npy header \(shown)") }
        let descr = descrText.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard let element = Element(descr: descr) else {
            throw DatasetError.badFormat(path: path, reason: Element.refusal(descr))
        }
        guard let fortran = field(dict, "fortran_order"), fortran == "False" else {
            throw DatasetError.badFormat(path: path, reason: "Fortran-ordered arrays are not supported (save with np.ascontiguousarray)")
        }
        guard let shapeText = field(dict, "shape") else {
            throw DatasetError.badFormat(path: path, reason: "no shape in the .npy header")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape = [Int]()
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw DatasetError.badFormat(path: path, reason: "bad shape \(shapeText)") }
            shape.append(v)
        }
        var need = element.size
        for d in shape {
            let (p, overflow) = need.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DatasetError.badFormat(path: path, reason: "shape \(shape) overflows the size of an array") }
            need = p
        }
        let body = data.count - start - headerLen
        guard body >= need else { throw DatasetError.truncated(path: path, expectedBytes: start + headerLen + need, actualBytes: data.count) }
        guard body == need else { throw DatasetError.badFormat(path: path, reason: "\(body - need) unexpected bytes after the array") }
        return RawArray(path: path, element: element, shape: shape, data: data.subdata(in: (data.startIndex + start + headerLen)..<data.endIndex))
    }

    /// The value text of `'key': value` in a Python dict literal (values here never hold a comma
    /// outside parentheses).
    private static func field(_ dict: String, _ key: String) -> String? {
        guard let r = dict.range(of: "'\(key)':") else { return nil }
        var rest = dict[r.upperBound...].drop { $0 == " " }
        var depth = 0, out = ""
        while let c = rest.first {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1; if depth == 0 { out.append(c); break } }
            if (c == "," || c == "}") && depth == 0 { break }
            out.append(c)
            rest = rest.dropFirst()
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
