import Foundation
import PoisonForge

/// The `attack` section: the fields every attack has, the attack's descriptor, and its own
/// parameters decoded into the type the descriptor names.
struct AttackConfig: Decodable, Sendable {
    let kind: String
    let descriptor: AttackDescriptor
    let common: AttackCommon
    let parameters: any AttackParameters

    var target: Int { common.target }

    private enum Keys: String, CodingKey { case kind, target, rate, mode, rateOf }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        kind = try c.decode(String.self, forKey: .kind)
        guard let d = AttackCatalog.descriptor(kind) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown attack kind \(kind)")
        }
        descriptor = d
        common = AttackCommon(target: try c.decode(Int.self, forKey: .target), rate: try c.decode(Double.self, forKey: .rate),
                              mode: try c.decodeIfPresent(TargetMode.self, forKey: .mode) ?? .allToOne,
                              rateBase: try c.decodeIfPresent(RateBase.self, forKey: .rateOf) ?? .trainingSet)
        parameters = try d.parameters.init(from: decoder)
    }

    /// The attack, for images of the given shape.
    func make(_ shape: AttackShape) throws -> any Attack { try parameters.make(common, shape) }
}
