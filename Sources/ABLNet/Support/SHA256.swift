import CCrypto
import Foundation

/// Errors of content hashing.
public enum DigestError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case library(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read for hashing: \(reason)"
        case .library(let what): return "OpenSSL SHA-256 failed: \(what)"
        }
    }
}

/// SHA-256 through OpenSSL's libcrypto (EVP interface), incremental.
public struct SHA256Hasher: ~Copyable {
    private let ctx: OpaquePointer

    public init() throws {
        guard let c = EVP_MD_CTX_new() else { throw DigestError.library("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(c, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(c)
            throw DigestError.library("EVP_DigestInit_ex")
        }
        ctx = c
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if buffer.count > 0 { EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count) }
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
    public mutating func update(_ string: String) { update(Array(string.utf8)) }
    public mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex characters.
    public consuming func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return hexString(out)
    }
}

/// Lowercase hex of some bytes.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var s = [UInt8]()
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 15)])
    }
    return String(decoding: s, as: UTF8.self)
}

/// One-shot SHA-256 helpers.
public enum SHA256 {
    /// Hex digest of a string's UTF-8 bytes.
    public static func hex(of string: String) throws -> String {
        var h = try SHA256Hasher()
        h.update(string)
        return h.finalizeHex()
    }

    /// Hex digest of bytes.
    public static func hex(of bytes: [UInt8]) throws -> String {
        var h = try SHA256Hasher()
        h.update(bytes)
        return h.finalizeHex()
    }

    /// Hex digest of a file's content, read in 1 MiB blocks.
    public static func hex(ofFile path: String) throws -> String {
        let fd: Int32
        do { fd = try InputFile.openRegular(path, limit: .max).fd } catch let e as InputFileError {
            throw DigestError.unreadable(path: path, reason: e.reason)
        }
        defer { close(fd) }
        var h = try SHA256Hasher()
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let n = read(fd, block.baseAddress, block.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw DigestError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(rebasing: block[0..<n]))
        }
        return h.finalizeHex()
    }
}
