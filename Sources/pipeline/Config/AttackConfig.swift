import Foundation
import PoisonForge

/// The attacks a manifest can name, with what the pipeline needs to know about each.
enum AttackKind: String, Decodable, Sendable, CaseIterable {
    case badnets, trojan, blend, dynamic, sig, cl, fc, dfst, lba, cba

    /// Whether the attack optimises against the surrogate model (its stage then runs).
    var needsSurrogate: Bool { [.trojan, .dynamic, .cl, .fc, .lba].contains(self) }
    /// Whether poisoned samples keep their true label.
    var isCleanLabel: Bool { [.sig, .cl, .fc].contains(self) }
}

/// The `attack` section: the fields every attack has, and its kind's own parameters.
struct AttackConfig: Decodable, Sendable {
    let kind: AttackKind
    let target: Int
    let rate: Double
    /// Dirty-label patch and blend attacks only; the others are all-to-one.
    let mode: TargetMode?
    /// Clean-label attacks only: what `rate` counts.
    let rateOf: RateBase?
    let parameters: Parameters

    /// Every attack's own parameters, as its schema variant declares them.
    enum Parameters: Sendable {
        case badnets(BadNetsParameters)
        case trojan(TrojanParameters)
        case blend(BlendParameters)
        case dynamic(DynamicParameters)
        case sig(SIGParameters)
        case cl(CLParameters)
        case fc(FCParameters)
        case dfst(DFSTParameters)
        case lba(LBAParameters)
        case cba(CBAParameters)
    }

    private enum Keys: String, CodingKey { case kind, target, rate, mode, rateOf }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        kind = try c.decode(AttackKind.self, forKey: .kind)
        target = try c.decode(Int.self, forKey: .target)
        rate = try c.decode(Double.self, forKey: .rate)
        mode = try c.decodeIfPresent(TargetMode.self, forKey: .mode)
        rateOf = try c.decodeIfPresent(RateBase.self, forKey: .rateOf)
        switch kind {
        case .badnets: parameters = .badnets(try BadNetsParameters(from: decoder))
        case .trojan: parameters = .trojan(try TrojanParameters(from: decoder))
        case .blend: parameters = .blend(try BlendParameters(from: decoder))
        case .dynamic: parameters = .dynamic(try DynamicParameters(from: decoder))
        case .sig: parameters = .sig(try SIGParameters(from: decoder))
        case .cl: parameters = .cl(try CLParameters(from: decoder))
        case .fc: parameters = .fc(try FCParameters(from: decoder))
        case .dfst: parameters = .dfst(try DFSTParameters(from: decoder))
        case .lba: parameters = .lba(try LBAParameters(from: decoder))
        case .cba: parameters = .cba(try CBAParameters(from: decoder))
        }
    }

    /// Pixels along one side a patch trigger takes (patch plus margin); nil when the attack has no patch.
    var triggerExtent: Int? {
        switch parameters {
        case .badnets(let p): return p.patchSize + p.margin
        case .trojan(let p): return p.patchSize + p.margin
        case .cl(let p): return 2 * p.patchSize
        case .fc(let p): return p.patchSize
        default: return nil
        }
    }
}


struct BadNetsParameters: Decodable, Sendable {
    let patchSize: Int
    let pattern: String
    let corner: BadNets.Corner
    let margin: Int
}

struct TrojanParameters: Decodable, Sendable {
    let patchSize: Int
    let margin: Int
    let neurons: Int
    let activationGain: Double
    let steps: Int
    let batch: Int
    let stepLr: Double
    var optimiser: PatchOptimiser.Settings { PatchOptimiser.Settings(steps: steps, batch: batch, lr: Float(stepLr)) }
}

struct BlendParameters: Decodable, Sendable {
    enum Key: String, Decodable, Sendable, CaseIterable { case noise, noisePerImage = "noise-per-image", image }
    let alpha: Double
    let key: Key
    let keyImage: String?
}

struct DynamicParameters: Decodable, Sendable {
    let density: Double
    let lambdaDiversity: Double
    let lambdaNorm: Double
    let steps: Int
    let batch: Int
    let generatorLr: Double
    let hidden: Int
}

struct SIGParameters: Decodable, Sendable {
    let delta: Double
    let frequency: Double
}

struct CLParameters: Decodable, Sendable {
    let epsilon: Double
    let step: Double
    let steps: Int
    let patchSize: Int
}

struct FCParameters: Decodable, Sendable {
    let epsilon: Double
    let step: Double
    let steps: Int
    let patchSize: Int
    let pattern: String
}

struct DFSTParameters: Decodable, Sendable {
    let alpha: Double
    let texture: Double
}

struct LBAParameters: Decodable, Sendable {
    let patchFraction: Double
    let steps: Int
    let batch: Int
    let stepLr: Double
    var optimiser: PatchOptimiser.Settings { PatchOptimiser.Settings(steps: steps, batch: batch, lr: Float(stepLr)) }
}

struct CBAParameters: Decodable, Sendable {
    let classA: Int
    let classB: Int
    let mixRate: Double
    let jitter: Int
}
