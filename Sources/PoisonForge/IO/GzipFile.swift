import ABLNet
import CZlib
import Foundation

/// Reads a whole input file: gzip-compressed files (magic 1f 8b) are inflated, anything else is
/// returned as is. Only regular files are read; the file and the inflated bytes are each held to
/// `InputLimits.maxInputBytes`.
public enum GzipFile {
    /// The (decompressed) bytes of `path`. A corrupt gzip stream, or bytes after the last gzip
    /// member that do not start another member, are an error naming the file.
    public static func read(_ path: String, limit: Int = InputLimits.maxInputBytes) throws -> [UInt8] {
        let raw: [UInt8]
        do { raw = try InputFile.read(path, limit: limit) } catch let e as InputFileError {
            throw DatasetError.unreadable(path: path, reason: e.reason)
        }
        guard raw.count >= 2, raw[0] == 0x1f, raw[1] == 0x8b else { return raw }
        return try inflate(raw, path: path, limit: limit)
    }

    /// Inflates every gzip member of `raw` (concatenated members are one stream, as `gzip -d` reads them).
    static func inflate(_ raw: [UInt8], path: String, limit: Int) throws -> [UInt8] {
        func corrupt(_ why: String) -> DatasetError { .badFormat(path: path, reason: "corrupt gzip data: \(why)") }
        var out = [UInt8]()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var consumed = 0
        while consumed < raw.count {
            guard raw.count - consumed >= 2, raw[consumed] == 0x1f, raw[consumed + 1] == 0x8b else {
                throw DatasetError.badFormat(path: path, reason: "\(raw.count - consumed) bytes of junk after the gzip data")
            }
            var z = z_stream()
            guard inflateInit2_(&z, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw corrupt("zlib could not start")
            }
            defer { inflateEnd(&z) }
            var status = Z_OK
            try raw.withUnsafeBytes { src in
                z.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + consumed)
                z.avail_in = UInt32(min(raw.count - consumed, Int(UInt32.max)))
                while status != Z_STREAM_END {
                    let produced: Int = block.withUnsafeMutableBytes { dst in
                        z.next_out = dst.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        z.avail_out = UInt32(dst.count)
                        status = CZlib.inflate(&z, Z_NO_FLUSH)
                        return dst.count - Int(z.avail_out)
                    }
                    if status == Z_BUF_ERROR && produced == 0 { throw corrupt("unexpected end of the file (truncated)") }
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                        throw corrupt(z.msg.map { String(cString: $0) } ?? "inflate error \(status)")
                    }
                    guard out.count + produced <= limit else {
                        throw DatasetError.badFormat(path: path, reason: "inflates to more than the input limit of \(limit) bytes (raise it with the environment variable \(InputLimits.inputBytesVariable))")
                    }
                    out.append(contentsOf: block[0..<produced])
                }
            }
            consumed += Int(z.total_in)
        }
        return out
    }
}
