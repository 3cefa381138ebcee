/// Training or evaluation behaviour (BatchNorm statistics, Dropout).
public enum Mode: Sendable {
    case train
    case eval
}

/// A network layer: forward and backward side by side, its own output and gradient buffers.
///
/// `forward` keeps what `backward` needs (usually its input); `backward` takes the gradient of
/// the loss with respect to the output and returns the gradient with respect to the input,
/// writing (not accumulating) the gradients of its parameters.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor
    func backward(_ dy: Tensor) throws -> Tensor
    /// Trainable tensors by PyTorch `state_dict` name.
    func parameters(prefix: String) -> [(String, Parameter)]
    /// Non-trainable state by PyTorch `state_dict` name (BatchNorm running statistics).
    func buffers(prefix: String) -> [(String, Tensor)]
}

extension Layer {
    public func parameters(prefix: String) -> [(String, Parameter)] { [] }
    public func buffers(prefix: String) -> [(String, Tensor)] { [] }
}

/// Checks that `x` has `rank` dimensions and the given trailing sizes (nil: any).
@inline(__always)
func expectShape(_ x: Tensor, _ layer: String, channels: Int?) throws {
    guard x.shape.count == 4, x.shape[0] > 0 else {
        if x.shape.first == 0 { throw ABLNetError.emptyBatch(layer) }
        throw ABLNetError.shapeMismatch(layer: layer, expected: "(N, C, H, W)", got: x.shape)
    }
    if let c = channels, x.shape[1] != c {
        throw ABLNetError.shapeMismatch(layer: layer, expected: "(N, \(c), H, W)", got: x.shape)
    }
}
