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

    /// The attack a resolved `attack` section describes, for a dataset of the given shape. The
    /// schema (`ManifestSchema.attack`) is the one source of every default: the resolved section
    /// carries each field of its kind, so a missing one is reported, not filled in here.
    static func make(_ a: JSON, height: Int, width: Int, channels: Int, seed: UInt64) throws -> any Attack {
        func fail(_ r: String) -> Error { StageError.failed(stage: "poison", reason: r) }
        func field<T>(_ k: String, _ read: (JSON) -> T?) throws -> T {
            guard let v = a[k].flatMap(read) else { throw fail("attack.\(k) is missing from the resolved manifest") }
            return v
        }
        func int(_ k: String) throws -> Int { try field(k) { $0.intValue } }
        func num(_ k: String) throws -> Double { try field(k) { $0.doubleValue } }
        func str(_ k: String) throws -> String { try field(k) { $0.stringValue } }
        let kind = try str("kind"), target = try int("target"), rate = try num("rate")
        // only some kinds have these two fields (`mode`: dirty-label patch and blend attacks;
        // `rate_of`: clean-label ones); the others are all-to-one and count the whole set
        let mode = a["mode"]?.stringValue.flatMap(TargetMode.init(rawValue:)) ?? .allToOne
        let base = a["rate_of"]?.stringValue.flatMap(RateBase.init(rawValue:)) ?? .targetClass
        func patchSettings() throws -> PatchOptimiser.Settings {
            PatchOptimiser.Settings(steps: try int("steps"), batch: try int("batch"), lr: Float(try num("step_lr")))
        }
        switch kind {
        case "badnets":
            let size = try int("patch_size"), name = try str("pattern")
            guard let pattern = BadNets.pattern(named: name, size: size) else { throw fail("pattern \(name) does not exist at size \(size)") }
            return BadNets(target: target, rate: rate, targetMode: mode, size: size, pattern: pattern,
                           corner: BadNets.Corner(rawValue: try str("corner")) ?? .bottomRight, margin: try int("margin"))
        case "trojan":
            return Trojan(target: target, rate: rate, targetMode: mode, patchSize: try int("patch_size"), margin: try int("margin"),
                          neurons: try int("neurons"), activationGain: Float(try num("activation_gain")), settings: try patchSettings())
        case "blend":
            let alpha = Float(try num("alpha"))
            switch try str("key") {
            case "noise-per-image":
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: nil, perImageNoise: true, seed: seed)
            case "image":
                let key = try keyImage(try str("key_image"), height: height, width: width, channels: channels)
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: key)
            default:
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: Blend.noiseKey(count: height * width * channels, seed: seed))
            }
        case "dynamic":
            return Dynamic(target: target, rate: rate, density: Float(try num("density")), lambdaDiversity: Float(try num("lambda_diversity")),
                           lambdaNorm: Float(try num("lambda_norm")), steps: try int("steps"), batch: try int("batch"),
                           lr: Float(try num("generator_lr")), hidden: try int("hidden"))
        case "sig":
            return SIG(target: target, rate: rate, rateBase: base, delta: try num("delta"), frequency: try num("frequency"))
        case "cl":
            return LabelConsistent(target: target, rate: rate, rateBase: base, epsilon: Float(try num("epsilon") / 255),
                                   stepSize: Float(try num("step") / 255), steps: try int("steps"), patchSize: try int("patch_size"))
        case "fc":
            let size = try int("patch_size"), name = try str("pattern")
            guard let pattern = BadNets.pattern(named: name, size: size) else { throw fail("pattern \(name) does not exist at size \(size)") }
            return FeatureCollision(target: target, rate: rate, rateBase: base, epsilon: Float(try num("epsilon") / 255),
                                    stepSize: Float(try num("step") / 255), steps: try int("steps"),
                                    patch: BadNets(target: target, size: size, pattern: pattern))
        case "dfst":
            return DFST(target: target, rate: rate, targetMode: mode, alpha: Float(try num("alpha")), texture: Float(try num("texture")),
                        height: height, width: width)
        case "lba":
            return LBA(target: target, rate: rate, patchFraction: try num("patch_fraction"), settings: try patchSettings())
        case "cba":
            return CBA(target: target, rate: rate, classA: try int("class_a"), classB: try int("class_b"), mixRate: try num("mix_rate"), jitter: try int("jitter"))
        default:
            throw fail("unknown attack kind \(kind)")
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
