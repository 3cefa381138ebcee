import ABLNet
import Foundation
import PoisonForge

/// How a resolved, typed `attack` section becomes an `Attack`.
enum AttackCatalog {
    /// The attack a typed `attack` section describes, for a dataset of the given shape.
    static func make(_ a: AttackConfig, height: Int, width: Int, channels: Int, seed: UInt64) throws -> any Attack {
        func fail(_ r: String) -> Error { StageError.failed(stage: "poison", reason: r) }
        let target = a.target, rate = a.rate
        // only some kinds have these two fields (`mode`: dirty-label patch and blend attacks;
        // `rate_of`: clean-label ones); the others are all-to-one and count the whole set
        let mode = a.mode ?? .allToOne
        let base = a.rateOf ?? .targetClass
        switch a.parameters {
        case .badnets(let p):
            guard let pattern = BadNets.pattern(named: p.pattern, size: p.patchSize) else { throw fail("pattern \(p.pattern) does not exist at size \(p.patchSize)") }
            return BadNets(target: target, rate: rate, targetMode: mode, size: p.patchSize, pattern: pattern, corner: p.corner, margin: p.margin)
        case .trojan(let p):
            return Trojan(target: target, rate: rate, targetMode: mode, patchSize: p.patchSize, margin: p.margin,
                          neurons: p.neurons, activationGain: Float(p.activationGain), settings: p.optimiser)
        case .blend(let p):
            let alpha = Float(p.alpha)
            switch p.key {
            case .noisePerImage:
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: nil, perImageNoise: true, seed: seed)
            case .image:
                guard let path = p.keyImage else { throw fail("attack.key_image is required with key \"image\"") }
                let key = try keyImage(path, height: height, width: width, channels: channels)
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: key)
            case .noise:
                return Blend(target: target, rate: rate, targetMode: mode, alpha: alpha, key: Blend.noiseKey(count: height * width * channels, seed: seed))
            }
        case .dynamic(let p):
            return Dynamic(target: target, rate: rate, density: Float(p.density), lambdaDiversity: Float(p.lambdaDiversity),
                           lambdaNorm: Float(p.lambdaNorm), steps: p.steps, batch: p.batch, lr: Float(p.generatorLr), hidden: p.hidden)
        case .sig(let p):
            return SIG(target: target, rate: rate, rateBase: base, delta: p.delta, frequency: p.frequency)
        case .cl(let p):
            return LabelConsistent(target: target, rate: rate, rateBase: base, epsilon: Float(p.epsilon / 255),
                                   stepSize: Float(p.step / 255), steps: p.steps, patchSize: p.patchSize)
        case .fc(let p):
            guard let pattern = BadNets.pattern(named: p.pattern, size: p.patchSize) else { throw fail("pattern \(p.pattern) does not exist at size \(p.patchSize)") }
            return FeatureCollision(target: target, rate: rate, rateBase: base, epsilon: Float(p.epsilon / 255),
                                    stepSize: Float(p.step / 255), steps: p.steps, patch: BadNets(target: target, size: p.patchSize, pattern: pattern))
        case .dfst(let p):
            return DFST(target: target, rate: rate, targetMode: mode, alpha: Float(p.alpha), texture: Float(p.texture), height: height, width: width)
        case .lba(let p):
            return LBA(target: target, rate: rate, patchFraction: p.patchFraction, settings: p.optimiser)
        case .cba(let p):
            return CBA(target: target, rate: rate, classA: p.classA, classB: p.classB, mixRate: p.mixRate, jitter: p.jitter)
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
