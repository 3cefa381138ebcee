/// Errors of the engine. Each names the layer or file and the cause.
public enum ABLNetError: Error, CustomStringConvertible {
    case shapeMismatch(layer: String, expected: String, got: [Int])
    case emptyBatch(String)
    case nonFinite(String)
    /// The checkpoint is a valid file but does not fit the model.
    case checkpoint(path: String, reason: String)
    /// The file is not a valid checkpoint: what is wrong with it.
    case checkpointFormat(path: String, reason: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let l, let e, let g): return "\(l): input shape \(g) does not match: expected \(e)"
        case .emptyBatch(let w): return "\(w): empty batch"
        case .nonFinite(let w): return "\(w): loss is NaN or infinite (diverged; lower the learning rate)"
        case .checkpoint(let p, let r): return "\(p): \(r)"
        case .checkpointFormat(let p, let r): return "\(p): not a valid safetensors checkpoint: \(r)"
        case .invalidArgument(let r): return r
        }
    }
}
