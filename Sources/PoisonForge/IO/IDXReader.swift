/// Reader of the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).
///
/// An IDX file starts with a big-endian magic: two zero bytes, a type byte (0x08 = uint8) and the
/// number of dimensions; then one big-endian uint32 per dimension; then the data.
public enum IDXReader {
    /// The images of an `idx3-ubyte` file: (count, height, width, pixels).
    public static func readImages(_ path: String) throws -> (count: Int, height: Int, width: Int, pixels: [UInt8]) {
        let bytes = try GzipFile.read(path)
        let dims = try header(bytes, path: path, expectedDims: 3)
        let (n, h, w) = (dims[0], dims[1], dims[2])
        guard n > 0 else { throw DatasetError.badFormat(path: path, reason: "the IDX file holds 0 images") }
        guard h > 0, w > 0 else { throw DatasetError.badFormat(path: path, reason: "image size \(h)x\(w)") }
        let start = 4 + 4 * 3
        let need = try checkedSize([start, n, h, w], path: path, what: "\(n) images of \(h)x\(w)")
        try check(bytes, need: need, path: path, what: "\(n) images")
        return (n, h, w, Array(bytes[start...]))
    }

    /// The labels of an `idx1-ubyte` file.
    public static func readLabels(_ path: String) throws -> [Int] {
        let bytes = try GzipFile.read(path)
        let dims = try header(bytes, path: path, expectedDims: 1)
        guard dims[0] > 0 else { throw DatasetError.badFormat(path: path, reason: "the IDX file holds 0 labels") }
        try check(bytes, need: 8 + dims[0], path: path, what: "\(dims[0]) labels")
        return bytes[8...].map { Int($0) }
    }

    /// `sizes[0] + sizes[1] * sizes[2] * ...`, or an error when it overflows.
    static func checkedSize(_ sizes: [Int], path: String, what: String) throws -> Int {
        var product = 1
        for s in sizes.dropFirst() {
            let (p, overflow) = product.multipliedReportingOverflow(by: s)
            guard !overflow else { throw DatasetError.badFormat(path: path, reason: "header declares \(what): the size overflows") }
            product = p
        }
        let (total, overflow) = product.addingReportingOverflow(sizes[0])
        guard !overflow else { throw DatasetError.badFormat(path: path, reason: "header declares \(what): the size overflows") }
        return total
    }

    /// The data must end exactly where the header says.
    private static func check(_ bytes: [UInt8], need: Int, path: String, what: String) throws {
        guard bytes.count >= need else {
            throw DatasetError.truncated(path: path, expectedBytes: need, actualBytes: bytes.count)
        }
        guard bytes.count == need else {
            throw DatasetError.badFormat(path: path, reason: "\(bytes.count - need) unexpected bytes after \(what)")
        }
    }

    private static func header(_ b: [UInt8], path: String, expectedDims: Int) throws -> [Int] {
        guard b.count >= 4 else {
            throw DatasetError.truncated(path: path, expectedBytes: 4, actualBytes: b.count)
        }
        guard b[0] == 0, b[1] == 0, b[2] == 0x08 else {
            let magic = b[0..<4].map { String($0, radix: 16) }.joined(separator: " ")
            throw DatasetError.badFormat(path: path, reason: "wrong IDX magic (\(magic)): expected 00 00 08 0\(expectedDims) (uint8 data)")
        }
        guard Int(b[3]) == expectedDims else {
            throw DatasetError.badFormat(path: path, reason: "IDX file has \(b[3]) dimensions, expected \(expectedDims) (\(expectedDims == 3 ? "images" : "labels"))")
        }
        let need = 4 + 4 * expectedDims
        guard b.count >= need else {
            throw DatasetError.truncated(path: path, expectedBytes: need, actualBytes: b.count)
        }
        return (0..<expectedDims).map { d in
            let o = 4 + 4 * d
            return Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
        }
    }
}
