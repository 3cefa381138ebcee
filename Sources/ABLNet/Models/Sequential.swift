/// A plain chain of layers without a classifier head: the small image-to-image networks the
/// input-aware (Dynamic) attack trains as its pattern and mask generators.
public final class Sequential {
    /// (state_dict prefix, layer) in forward order.
    public let layers: [(String, Layer)]

    public init(_ layers: [(String, Layer)]) {
        self.layers = layers
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        for (_, layer) in layers { h = try layer.forward(h, mode: mode) }
        return h
    }

    /// Backpropagates `dy`; returns the gradient with respect to the input.
    @discardableResult
    public func backward(_ dy: Tensor) throws -> Tensor {
        var g = dy
        for (_, layer) in layers.reversed() { g = try layer.backward(g) }
        return g
    }

    /// Trainable parameters by state_dict name.
    public var parameters: [(String, Parameter)] { layers.flatMap { $0.1.parameters(prefix: $0.0) } }
    /// BatchNorm running statistics by state_dict name.
    public var buffers: [(String, Tensor)] { layers.flatMap { $0.1.buffers(prefix: $0.0) } }

    /// conv(3x3)-BN-ReLU blocks of `hidden` channels, then a 3x3 conv to `outChannels`: the
    /// generator body used by the Dynamic attack (its output activation is applied by the caller).
    public static func convGenerator(inChannels: Int, hidden: Int, outChannels: Int, depth: Int = 2, seed: UInt64,
                                     engine: EngineSettings) -> Sequential {
        var layers: [(String, Layer)] = []
        var c = inChannels
        for i in 0..<depth {
            layers.append(("net.\(3 * i).", Conv2D(name: "net.\(3 * i)", inChannels: c, outChannels: hidden, kernel: 3, padding: 1, engine: engine)))
            layers.append(("net.\(3 * i + 1).", BatchNorm2D(name: "net.\(3 * i + 1)", channels: hidden, engine: engine)))
            layers.append(("net.\(3 * i + 2).", ReLU(engine: engine)))
            c = hidden
        }
        layers.append(("net.\(3 * depth).", Conv2D(name: "net.\(3 * depth)", inChannels: c, outChannels: outChannels, kernel: 3, padding: 1, bias: true, engine: engine)))
        let s = Sequential(layers)
        // Kaiming-normal (fan-out) conv weights as the classifiers use; biases start at 0.
        var rng = SeededRNG(seed: seed, stream: "init-generator")
        for (_, p) in s.parameters where p.value.shape.count == 4 {
            let sh = p.value.shape
            let std = (2.0 / Float(sh[0] * sh[2] * sh[3])).squareRoot()
            for i in 0..<p.value.count { p.value.data[i] = rng.normal() * std }
        }
        return s
    }
}
