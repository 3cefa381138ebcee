/// The pre-activation residual block of the ABL reference WideResNet (its `BasicBlock`) and of
/// PreAct-ResNet:
///
///     a = relu(bn1(x))
///     h = conv2(dropout(relu(bn2(conv1(a)))))
///
/// (each relu(bn(·)) is one BatchNorm2D with its ReLU fused).
///     y = h + (in == out && stride == 1 ? x : shortcut(a))      shortcut: 1x1 conv, stride s
///
/// `shortcutName` is the state_dict name of the 1x1 conv (`convShortcut` in WRN, `shortcut.0`
/// in PreAct-ResNet).
public final class PreActBlock: Layer {
    let bn1: BatchNorm2D, conv1: Conv2D
    let bn2: BatchNorm2D, conv2: Conv2D
    let dropout: Dropout?
    let shortcut: Conv2D?
    let shortcutName: String
    private let out = Tensor(shape: [0]), dx = Tensor(shape: [0])
    private var input: Tensor?
    let engine: EngineSettings

    public init(name: String, inChannels: Int, outChannels: Int, stride: Int, dropRate: Float, shortcutName: String, seed: UInt64,
                engine: EngineSettings) {
        self.engine = engine
        bn1 = BatchNorm2D(name: name + ".bn1", channels: inChannels, relu: true, engine: engine)
        conv1 = Conv2D(name: name + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1, engine: engine)
        bn2 = BatchNorm2D(name: name + ".bn2", channels: outChannels, relu: true, engine: engine)
        conv2 = Conv2D(name: name + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3, stride: 1, padding: 1, engine: engine)
        dropout = dropRate > 0 ? Dropout(p: dropRate, seed: seed) : nil
        self.shortcutName = shortcutName
        shortcut = (inChannels != outChannels || stride != 1)
            ? Conv2D(name: name + "." + shortcutName, inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride, engine: engine)
            : nil
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        var p = bn1.parameters(prefix: prefix + "bn1.") + conv1.parameters(prefix: prefix + "conv1.")
            + bn2.parameters(prefix: prefix + "bn2.") + conv2.parameters(prefix: prefix + "conv2.")
        if let s = shortcut { p += s.parameters(prefix: prefix + shortcutName + ".") }
        return p
    }

    public func buffers(prefix: String) -> [(String, Tensor)] {
        bn1.buffers(prefix: prefix + "bn1.") + bn2.buffers(prefix: prefix + "bn2.")
    }

    func batchNorms(prefix: String) -> [(String, BatchNorm2D)] { [(prefix + "bn1.", bn1), (prefix + "bn2.", bn2)] }
    var convs: [Conv2D] { [conv1, conv2] + (shortcut.map { [$0] } ?? []) }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        input = x
        let a = try bn1.forward(x, mode: mode)
        var h = try bn2.forward(try conv1.forward(a, mode: mode), mode: mode)
        if let d = dropout { h = try d.forward(h, mode: mode) }
        h = try conv2.forward(h, mode: mode)
        let s = try shortcut?.forward(a, mode: mode) ?? x
        out.reshape(to: h.shape)
        add(h, s, into: out, engine)
        return out
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        var g = try conv2.backward(dy)
        if let d = dropout { g = try d.backward(g) }
        let da = try conv1.backward(try bn2.backward(g))
        if let s = shortcut {
            // both branches read a: their gradients add
            let ds = try s.backward(dy)
            add(da, ds, into: da, engine)
            return try bn1.backward(da)
        }
        let dxa = try bn1.backward(da)
        dx.reshape(to: dxa.shape)
        add(dxa, dy, into: dx, engine)
        return dx
    }
}
