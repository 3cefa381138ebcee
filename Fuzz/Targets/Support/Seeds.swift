import Foundation

/// The seed corpus: each target writes its own seeds with the project's writers when run as
/// `fuzz-<target> --write-seeds <folder>` (so no binary seed is kept in the repository).
public enum Seeds {
    /// When the arguments ask for seeds, writes `make()`'s files into the folder and exits.
    public static func handle(_ make: () throws -> [(name: String, bytes: [UInt8])]) {
        let args = CommandLine.arguments
        guard args.count == 3, args[1] == "--write-seeds" else { return }
        do {
            try FileManager.default.createDirectory(atPath: args[2], withIntermediateDirectories: true)
            for seed in try make() {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: args[2] + "/seed-" + seed.name))
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("cannot write seeds: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Big-endian uint32.
    public static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    /// `bytes` as a one-member gzip file made of stored (uncompressed) deflate blocks.
    public static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]
        var rest = bytes[...]
        repeat {
            let chunk = rest.prefix(65535)
            rest = rest.dropFirst(chunk.count)
            let n = chunk.count
            out += [rest.isEmpty ? 1 : 0, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8(~n >> 8 & 255)] + chunk
        } while !rest.isEmpty
        let crc = crc32(bytes), size = UInt32(truncatingIfNeeded: bytes.count)
        for v in [crc, size] { out += (0..<4).map { UInt8(v >> (8 * UInt32($0)) & 255) } }
        return out
    }

    /// CRC-32 (the gzip and PNG polynomial), bit by bit.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
