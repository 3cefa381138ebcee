import ABLNet
import Foundation
import PoisonForge

/// The attacks the manifest can name, what each needs, and how a resolved `attack` section
/// becomes an `Attack`.
enum AttackCatalog {
    static let kinds = ["badnets", "trojan", "blend", "dynamic", "sig", "cl", "fc", "dfst", "lba", "cba"]
    /// Kinds that optimise against the surrogate model.
    static let needingSurrogate: Set<String> = ["trojan", "dynamic", "cl", "fc", "lba"]
    static let cleanLabel: Set<String> = ["sig", "cl", "fc"]

    static func needsSurrogate(_ attack: JSON?) -> Bool { needingSurrogate.contains(attack?["kind"]?.stringValue ?? "") }

    /// Pixels along one side a patch trigger takes (patch plus margin), for validation; nil when
    /// the attack has no patch.
    static func triggerExtent(_ a: JSON, height: Int, width: Int) -> Int? {
        switch a["kind"]?.stringValue {
        case "badnets", "trojan": return (a["patch_size"]?.intValue ?? 3) + (a["margin"]?.intValue ?? 0)
        case "cl": return 2 * (a["patch_size"]?.intValue ?? 3)
        case "fc": return a["patch_size"]?.intValue ?? 4
        default: return nil
        }
    }

    /// The attack a resolved `attack` section describes, for a dataset of the given shape.
    static func make(_ a: JSON, height: Int, width: Int, channels: Int, seed: UInt64) throws -> any Attack {
        func fail(_ r: String) -> Error { StageError.failed(stage: "poison", reason: r) }
        let target = a["target"]?.intValue ?? 0, rate = a["rate"]?.doubleValue ?? 0.1
        let mode = TargetMode(rawValue: a["mode"]?.stringValue ?? "all-to-one") ?? .allToOne
        let base = RateBase(rawValue: a["rate_of"]?.stringValue ?? "target-class") ?? .targetClass
        func int(_ k: String, _ d: Int) -> Int { a[k]?.intValue ?? d }
        func num(_ k: String, _ d: Double) -> Double { a[k]?.doubleValue ?? d }
        let patchSettings = PatchOptimiser.Settings(steps: int("steps", 200), batch: int("batch", 64), lr: Float(num("step_lr", 0.05)))
        switch a["kind"]?.stringValue {
        case "badnets":
            let size = int("patch_size", 3), name = a["pattern"]?.stringValue ?? "reference"
            guard let pattern = BadNets.pattern(named: name, size: size) else { throw fail("pattern \(name) does not exist at size \(size)") }
            return BadNets(target: target, rate: rate, targetMode: mode, size: size, pattern: pattern,
                           corner: BadNets.Corner(rawValue: a["corner"]?.stringValue ?? "bottom-right") ?? .bottomRight, margin: int("margin", 0))
        case "trojan":
            return Trojan(target: target, rate: rate, targetMode: mode, patchSize: int("patch_size", 3), margin: int("margin", 4),
                          neurons: int("neurons", 2), activationGain: Float(num("activation_gain", 10)), settings: patchSettings)
        case "blend":
            let alpha = Float(num("alpha", 0.2))
            switch a["key"]?.stringValue ?? "noise" {
            case "noise-per-image":
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: nil, perImageNoise: true, seed: seed)
            case "image":
                let key = try keyImage(a["key_image"]?.stringValue ?? "", height: height, width: width, channels: channels)
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: key)
            default:
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: Blend.noiseKey(count: height * width * channels, seed: seed))
            }
        case "dynamic":
            return Dynamic(target: target, rate: rate, density: Float(num("density", 0.032)), lambdaDiversity: Float(num("lambda_diversity", 1)),
                           lambdaNorm: Float(num("lambda_norm", 100)), steps: int("steps", 300), batch: int("batch", 64),
                           lr: Float(num("generator_lr", 0.01)), hidden: int("hidden", 16))
        case "sig":
            return SIG(target: target, rate: num("rate", 0.8), rateBase: base, delta: num("delta", 40), frequency: num("frequency", 6))
        case "cl":
            return LabelConsistent(target: target, rate: num("rate", 0.5), rateBase: base, epsilon: Float(num("epsilon", 8) / 255),
                                   stepSize: Float(num("step", 1.5) / 255), steps: int("steps", 100), patchSize: int("patch_size", 3))
        case "fc":
            let size = int("patch_size", 4), name = a["pattern"]?.stringValue ?? "checkerboard"
            guard let pattern = BadNets.pattern(named: name, size: size) else { throw fail("pattern \(name) does not exist at size \(size)") }
            return FeatureCollision(target: target, rate: num("rate", 0.5), rateBase: base, epsilon: Float(num("epsilon", 16) / 255),
                                    stepSize: Float(num("step", 2) / 255), steps: int("steps", 50),
                                    patch: BadNets(target: target, size: size, pattern: pattern))
        case "dfst":
            return DFST(target: target, rate: rate, targetMode: mode, alpha: Float(num("alpha", 0.6)), texture: Float(num("texture", 1)),
                        height: height, width: width)
        case "lba":
            return LBA(target: target, rate: rate, patchFraction: num("patch_fraction", 0.2), settings: patchSettings)
        case "cba":
            return CBA(target: target, rate: rate, classA: int("class_a", 1), classB: int("class_b", 2), mixRate: num("mix_rate", 0.05), jitter: int("jitter", 3))
        case let other:
            throw fail("unknown attack kind \(other ?? "(none)")")
        }
    }

    /// A PNG or JPEG key image resized (bilinear) to the input and converted to its channels.
    static func keyImage(_ path: String, height: Int, width: Int, channels: Int) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StageError.failed(stage: "poison", reason: "\(path): cannot read the key image")
        }
        let bytes = [UInt8](data)
        let decoded = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? try PNGCodec.decode(bytes, channels: channels, path: path)
                                                                   : try JPEGCodec.decode(bytes, channels: channels, path: path)
        if decoded.width == width && decoded.height == height { return decoded.pixels }
        return Resize.bilinear(decoded.pixels, width: decoded.width, height: decoded.height, channels: channels, toWidth: width, toHeight: height)
    }
}
