import Foundation

/// The architectures the engine builds, by manifest name.
public enum Architecture: String, CaseIterable, Sendable {
    /// WideResNet-16-1 of the ABL reference code (the paper's model).
    case wrn16_1 = "wrn-16-1"
    /// PreAct-ResNet-18 as in BackdoorBench.
    case preactResNet18 = "preact-resnet18"
    /// A small CNN for quick runs and tests.
    case smallCNN = "small-cnn"

    /// The network, its layers running with `engine`.
    public func build(inputChannels: Int, numClasses: Int, seed: UInt64, engine: EngineSettings) -> Network {
        switch self {
        case .wrn16_1: return Models.wideResNet(depth: 16, widen: 1, inputChannels: inputChannels, numClasses: numClasses, seed: seed, engine: engine)
        case .preactResNet18: return Models.preactResNet18(inputChannels: inputChannels, numClasses: numClasses, seed: seed, engine: engine)
        case .smallCNN: return Models.smallCNN(inputChannels: inputChannels, numClasses: numClasses, seed: seed, engine: engine)
        }
    }

    /// Parses `wrn-D-W` too (any depth 6k+4 and width).
    public static func parse(_ name: String) -> (depth: Int, widen: Int)? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "wrn", let d = Int(parts[1]), let w = Int(parts[2]), d >= 10, (d - 4) % 6 == 0, w >= 1 else { return nil }
        return (d, w)
    }
}

/// Model constructors with PyTorch state_dict names and the reference initialisations.
public enum Models {
    /// WRN-depth-width of the ABL reference (`conv1`, `block{1,2,3}.layer.{i}`, `bn1`, `fc`),
    /// with global average pooling before `fc` so any input size works.
    public static func wideResNet(depth: Int, widen: Int, inputChannels: Int, numClasses: Int, dropRate: Float = 0, seed: UInt64, engine: EngineSettings) -> Network {
        let n = (depth - 4) / 6
        let ch = [16, 16 * widen, 32 * widen, 64 * widen]
        var layers: [(String, Layer)] = [("conv1.", Conv2D(name: "conv1", inChannels: inputChannels, outChannels: ch[0], kernel: 3, padding: 1, engine: engine))]
        for b in 0..<3 {
            for i in 0..<n {
                let name = "block\(b + 1).layer.\(i)"
                layers.append((name + ".", PreActBlock(name: name, inChannels: i == 0 ? ch[b] : ch[b + 1], outChannels: ch[b + 1],
                                                      stride: i == 0 && b > 0 ? 2 : 1, dropRate: dropRate, shortcutName: "convShortcut",
                                                      seed: seed &+ UInt64(b * 100 + i), engine: engine)))
            }
        }
        layers += [("bn1.", BatchNorm2D(name: "bn1", channels: ch[3], engine: engine)), ("relu.", ReLU(engine: engine)), ("pool.", GlobalAvgPool()),
                   ("fc.", Linear(name: "fc", inFeatures: ch[3], outFeatures: numClasses))]
        let net = Network(architecture: "wrn-\(depth)-\(widen)", inputChannels: inputChannels, numClasses: numClasses, layers: layers, featureIndex: layers.count - 2, engine: engine)
        initialise(net, seed: seed, zeroLinearBias: true)
        return net
    }

    /// PreAct-ResNet-18 (BackdoorBench naming: `conv1`, `layer{1..4}.{0,1}`, `bn`, `linear`).
    public static func preactResNet18(inputChannels: Int, numClasses: Int, seed: UInt64, engine: EngineSettings) -> Network {
        var layers: [(String, Layer)] = [("conv1.", Conv2D(name: "conv1", inChannels: inputChannels, outChannels: 64, kernel: 3, padding: 1, engine: engine))]
        var inC = 64
        for (li, planes) in [64, 128, 256, 512].enumerated() {
            for i in 0..<2 {
                let name = "layer\(li + 1).\(i)"
                layers.append((name + ".", PreActBlock(name: name, inChannels: inC, outChannels: planes, stride: i == 0 && li > 0 ? 2 : 1,
                                                      dropRate: 0, shortcutName: "shortcut.0", seed: seed, engine: engine)))
                inC = planes
            }
        }
        layers += [("bn.", BatchNorm2D(name: "bn", channels: 512, engine: engine)), ("relu.", ReLU(engine: engine)), ("avgpool.", GlobalAvgPool()),
                   ("linear.", Linear(name: "linear", inFeatures: 512, outFeatures: numClasses))]
        let net = Network(architecture: "preact-resnet18", inputChannels: inputChannels, numClasses: numClasses, layers: layers, featureIndex: layers.count - 2, engine: engine)
        initialise(net, seed: seed, zeroLinearBias: false)
        return net
    }

    /// conv(32)-BN-ReLU-maxpool, conv(64)-BN-ReLU-maxpool, global average pool, linear.
    public static func smallCNN(inputChannels: Int, numClasses: Int, seed: UInt64, engine: EngineSettings) -> Network {
        let layers: [(String, Layer)] = [
            ("features.0.", Conv2D(name: "features.0", inChannels: inputChannels, outChannels: 32, kernel: 3, padding: 1, engine: engine)),
            ("features.1.", BatchNorm2D(name: "features.1", channels: 32, engine: engine)), ("features.2.", ReLU(engine: engine)), ("features.3.", MaxPool2D(kernel: 2)),
            ("features.4.", Conv2D(name: "features.4", inChannels: 32, outChannels: 64, kernel: 3, padding: 1, engine: engine)),
            ("features.5.", BatchNorm2D(name: "features.5", channels: 64, engine: engine)), ("features.6.", ReLU(engine: engine)), ("features.7.", MaxPool2D(kernel: 2)),
            ("pool.", GlobalAvgPool()),
            ("fc.", Linear(name: "fc", inFeatures: 64, outFeatures: numClasses)),
        ]
        let net = Network(architecture: "small-cnn", inputChannels: inputChannels, numClasses: numClasses, layers: layers, featureIndex: layers.count - 2, engine: engine)
        initialise(net, seed: seed, zeroLinearBias: false)
        return net
    }

    /// Convolutions: Kaiming normal (fan_out, ReLU), as the reference WRN. BatchNorm: 1 and 0.
    /// Linear: PyTorch's default U(-1/sqrt(in), 1/sqrt(in)) for the weight; bias zero (WRN) or the same uniform.
    static func initialise(_ net: Network, seed: UInt64, zeroLinearBias: Bool) {
        var rng = SeededRNG(seed: seed, stream: "init")
        for (name, p) in net.parameters {
            let s = p.value.shape
            if s.count == 4 {
                let std = (2.0 / Float(s[0] * s[2] * s[3])).squareRoot()
                for i in 0..<p.value.count { p.value.data[i] = rng.normal() * std }
            } else if s.count == 2 {
                let bound = 1 / Float(s[1]).squareRoot()
                for i in 0..<p.value.count { p.value.data[i] = (rng.unitFloat() * 2 - 1) * bound }
            } else if name.hasSuffix("bias") && !name.contains("bn") && net.parameters.first(where: { $0.0 == name.replacingOccurrences(of: "bias", with: "weight") })?.1.value.shape.count == 2 {
                let fanIn = net.parameters.first { $0.0 == name.replacingOccurrences(of: "bias", with: "weight") }!.1.value.shape[1]
                let bound = 1 / Float(fanIn).squareRoot()
                for i in 0..<p.value.count { p.value.data[i] = zeroLinearBias ? 0 : (rng.unitFloat() * 2 - 1) * bound }
            }
        }
    }
}

extension SeededRNG {
    /// A standard normal sample (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = max(unitFloat(), 1e-7), u2 = unitFloat()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}
