/// Errors of reading, checking and writing datasets. Each names the file and the cause.
public enum DatasetError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badFormat(path: String, reason: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case shapeMismatch(path: String, reason: String)
    /// An image whose size is not the declared one, read with resizing off.
    case imageSize(path: String, width: Int, height: Int, declaredWidth: Int, declaredHeight: Int)
    case emptyClassFolder(path: String)
    case noClasses(path: String)
    case labelOutOfRange(path: String, label: Int, classes: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read: \(r)"
        case .badFormat(let p, let r): return "\(p): \(r)"
        case .truncated(let p, let e, let a):
            return "\(p): truncated: expected \(e) bytes, found \(a)"
        case .shapeMismatch(let p, let r): return "\(p): shape mismatch: \(r)"
        case .imageSize(let p, let w, let h, let dw, let dh):
            return "\(p): shape mismatch: image is \(w)x\(h), not the declared \(dw)x\(dh), and resizing is off"
        case .emptyClassFolder(let p): return "\(p): class folder holds no .png, .jpg or .jpeg image"
        case .noClasses(let p): return "\(p): no class folders (expected root/<class>/<image>)"
        case .labelOutOfRange(let p, let l, let c): return "\(p): label \(l) is not a class (0..<\(c))"
        case .invalid(let r): return r
        }
    }
}
