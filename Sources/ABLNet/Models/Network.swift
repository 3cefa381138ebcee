/// A classifier: a chain of layers ending in (N, classes) logits, with the penultimate
/// features (after global average pooling) available after every forward.
public final class Network {
    /// Architecture name as in manifests (`wrn-16-1`, `preact-resnet18`, `small-cnn`).
    public let architecture: String
    public let inputChannels: Int
    public let numClasses: Int
    /// (state_dict prefix, layer) in forward order.
    public let layers: [(String, Layer)]
    /// Index in `layers` of the layer whose output is the penultimate feature vector.
    let featureIndex: Int
    private var featureOutput: Tensor?
    private var featureMapOutput: Tensor?

    /// How the network's layers run (every layer holds the same settings).
    public let engine: EngineSettings

    init(architecture: String, inputChannels: Int, numClasses: Int, layers: [(String, Layer)], featureIndex: Int, engine: EngineSettings) {
        self.engine = engine
        self.architecture = architecture
        self.inputChannels = inputChannels
        self.numClasses = numClasses
        self.layers = layers
        self.featureIndex = featureIndex
        inputGradient = false
        // didSet does not run in an initializer: training needs no input gradient
        (layers.first?.1 as? Conv2D)?.computeInputGradient = false
    }

    /// Compute the gradient with respect to the input image in `backward` (the attacks need it).
    public var inputGradient: Bool {
        didSet { (layers.first?.1 as? Conv2D)?.computeInputGradient = inputGradient }
    }

    /// Logits (N, classes) for images x (N, C, H, W) scaled to [0, 1].
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.shape.count == 4, x.shape[1] == inputChannels else {
            throw ABLNetError.shapeMismatch(layer: architecture + " input", expected: "(N, \(inputChannels), H, W)", got: x.shape)
        }
        var h = x
        for (i, (_, layer)) in layers.enumerated() {
            h = try layer.forward(h, mode: mode)
            if i == featureIndex - 1 { featureMapOutput = h }
            if i == featureIndex { featureOutput = h }
        }
        return h
    }

    /// Backpropagates dlogits; returns the input gradient (meaningful when `inputGradient` is set).
    @discardableResult
    public func backward(_ dlogits: Tensor) throws -> Tensor {
        var g = dlogits
        for (_, layer) in layers.reversed() { g = try layer.backward(g) }
        return g
    }

    /// Backpropagates a gradient given at the penultimate features (N, F) of the last forward,
    /// skipping the classifier; returns the input gradient (meaningful when `inputGradient` is
    /// set). Feature-space attacks (feature collision, latent backdoor, TrojanNN) use it.
    @discardableResult
    public func backwardFromFeatures(_ dfeatures: Tensor) throws -> Tensor {
        guard let f = featureOutput, f.shape == dfeatures.shape else {
            throw ABLNetError.shapeMismatch(layer: architecture + " features", expected: "\(featureOutput?.shape ?? [])", got: dfeatures.shape)
        }
        var g = dfeatures
        for (_, layer) in layers[0...featureIndex].reversed() { g = try layer.backward(g) }
        return g
    }

    /// The last spatial feature map (N, F, h, w) of the last forward: the input of the global
    /// pooling whose output is `features`.
    public var featureMap: Tensor? { featureMapOutput }

    /// Backpropagates a gradient given at `featureMap` (N, F, h, w); returns the input gradient
    /// (meaningful when `inputGradient` is set). TrojanNN's neuron objective uses it.
    @discardableResult
    public func backwardFromFeatureMap(_ dmap: Tensor) throws -> Tensor {
        guard let f = featureMapOutput, f.shape == dmap.shape else {
            throw ABLNetError.shapeMismatch(layer: architecture + " feature map", expected: "\(featureMapOutput?.shape ?? [])", got: dmap.shape)
        }
        var g = dmap
        for (_, layer) in layers[0..<featureIndex].reversed() { g = try layer.backward(g) }
        return g
    }

    /// Penultimate features (N, F) of the last forward.
    public var features: Tensor? { featureOutput }

    /// Trainable parameters by PyTorch state_dict name, in registration order.
    public var parameters: [(String, Parameter)] { layers.flatMap { $0.1.parameters(prefix: $0.0) } }
    /// BatchNorm running statistics by state_dict name.
    public var buffers: [(String, Tensor)] { layers.flatMap { $0.1.buffers(prefix: $0.0) } }
    /// Every BatchNorm layer with its state_dict prefix.
    public var batchNorms: [(String, BatchNorm2D)] {
        var out: [(String, BatchNorm2D)] = []
        for (p, l) in layers {
            if let bn = l as? BatchNorm2D { out.append((p, bn)) }
            if let b = l as? PreActBlock { out += b.batchNorms(prefix: p) }
        }
        return out
    }

    /// Freeze (or release) every BatchNorm's statistics (see `BatchNorm2D.frozen`).
    /// Every convolution, in forward order (those inside the residual blocks included).
    public var convolutions: [Conv2D] {
        layers.flatMap { (_, l) -> [Conv2D] in
            if let c = l as? Conv2D { return [c] }
            return (l as? PreActBlock)?.convs ?? []
        }
    }

    public func freezeBatchNormStatistics(_ frozen: Bool) { for (_, bn) in batchNorms { bn.frozen = frozen } }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.1.value.count } }
}
