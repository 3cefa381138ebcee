import CZlib
import Foundation

/// Reads a whole file through zlib: gzip-compressed files are inflated, anything else is read as is.
public enum GzipFile {
    /// The (decompressed) bytes of `path`. A corrupt gzip stream is an error naming the file.
    public static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "no such file")
        }
        guard let f = gzopen(path, "rb") else {
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { gzclose(f) }
        _ = gzbuffer(f, 1 << 20)
        var out = [UInt8]()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = block.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let msg = String(cString: gzerror(f, &code))
                throw DatasetError.badFormat(path: path, reason: "corrupt gzip data: \(msg)")
            }
            if n == 0 { break }
            out.append(contentsOf: block[0..<Int(n)])
        }
        // gzread returns 0 at a truncated gzip member too; gzerror tells.
        var code: Int32 = 0
        let msg = String(cString: gzerror(f, &code))
        if code != Z_OK && code != Z_STREAM_END {
            throw DatasetError.badFormat(path: path, reason: "corrupt gzip data: \(msg)")
        }
        return out
    }
}
