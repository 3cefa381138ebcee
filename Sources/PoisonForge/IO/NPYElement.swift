import Foundation

extension NPY {
    /// A numeric element type as numpy's `descr` spells it (`<i4`, `|u1`, `>f8`, `|b1`).
    public struct Element: Equatable, Sendable {
        public enum Kind: Character, Sendable { case bool = "b", signed = "i", unsigned = "u", float = "f" }
        public let kind: Kind
        /// Bytes per element.
        public let size: Int
        public let bigEndian: Bool

        public init(kind: Kind, size: Int, bigEndian: Bool) {
            self.kind = kind; self.size = size; self.bigEndian = bigEndian
        }

        /// Parses a descr; nil for what this reader does not take (objects, strings, structured
        /// arrays, complex numbers, dates).
        public init?(descr: String) {
            let chars = Array(descr)
            guard chars.count >= 3, let order = chars.first, "<>|=".contains(order),
                  let kind = Kind(rawValue: chars[1]), let size = Int(String(chars[2...])) else { return nil }
            switch kind {
            case .bool: guard size == 1 else { return nil }
            case .signed, .unsigned: guard [1, 2, 4, 8].contains(size) else { return nil }
            case .float: guard [4, 8].contains(size) else { return nil }
            }
            self.init(kind: kind, size: size, bigEndian: order == ">" && size > 1)
        }

        /// The descr numpy writes for this element.
        public var descr: String { (size == 1 ? "|" : bigEndian ? ">" : "<") + String(kind.rawValue) + String(size) }

        /// numpy's name (`uint8`, `int32`, `float64`, `bool`).
        public var name: String {
            switch kind {
            case .bool: return "bool"
            case .signed: return "int\(size * 8)"
            case .unsigned: return "uint\(size * 8)"
            case .float: return "float\(size * 8)"
            }
        }

        /// Why a descr this reader does not take is refused, in words.
        static func refusal(_ descr: String) -> String {
            if descr.hasPrefix("[") || descr.hasPrefix("(") { return "structured arrays (descr \(descr)) are not supported: save one plain numeric array per file" }
            if descr.contains("O") { return "object arrays (dtype \(descr)) are not supported: save a numeric array (np.asarray(x, dtype=np.uint8) for images, an integer dtype for labels)" }
            if descr.contains("U") || descr.contains("S") { return "string arrays (dtype \(descr)) are not supported: labels must be integers (class_names gives their names)" }
            return "unsupported dtype \(descr): expected bool, an integer or a float dtype"
        }
    }

    /// An array of any numeric element type, as read.
    public struct RawArray: Sendable {
        /// The file it was read from (for messages).
        public let path: String
        public let element: Element
        public let shape: [Int]
        public let data: Data

        public var count: Int { data.count / max(element.size, 1) }

        /// The elements as integers: bool and integer dtypes of either byte order. Floats, and
        /// uint64 values beyond Int.max, are refused.
        public func integers() throws -> [Int] {
            guard element.kind != .float else {
                throw DatasetError.badFormat(path: path, reason: "holds \(element.name) values; integers are needed here (astype(np.int64))")
            }
            let n = count, size = element.size, big = element.bigEndian, signed = element.kind == .signed
            var out = [Int](repeating: 0, count: n)
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for i in 0..<n {
                    var u: UInt64 = 0
                    for b in 0..<size {
                        let byte = UInt64(raw[i * size + (big ? b : size - 1 - b)])
                        u = u << 8 | byte
                    }
                    if signed, size < 8, u & (1 << (UInt64(size) * 8 - 1)) != 0 { u |= ~((1 << (UInt64(size) * 8)) - 1) }
                    if !signed, u > UInt64(Int.max) {
                        throw DatasetError.badFormat(path: path, reason: "value \(u) at position \(i) is out of range")
                    }
                    out[i] = Int(Int64(bitPattern: u))
                }
            }
            return out
        }
    }
}
