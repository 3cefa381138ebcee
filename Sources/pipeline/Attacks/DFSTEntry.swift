import ABLNet
import PoisonForge

/// DFST's parameters: a blend toward a generated sunrise style.
struct DFSTParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "dfst", displayName: "DFST (colour/texture-style variant)", labelKind: .dirty, needsSurrogate: false,
        doc: "DFST (colour/texture-style variant): (1 - alpha) x + alpha style(x) toward a generated sunrise; dirty-label",
        fields: [
            AttackFields.dirtyRate, AttackFields.targetMode,
            .optional("alpha", .number, default: .number(0.6), "blend weight of the stylised image", [.range(0, 1, openLo: true)]),
            .optional("texture", .number, default: .number(1), "weight of the sunrise's high-pass texture", [.range(0, 10)]),
        ],
        parameters: DFSTParameters.self)

    let alpha: Double
    let texture: Double

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        DFST(target: c.target, rate: c.rate, targetMode: c.mode, alpha: Float(alpha), texture: Float(texture), height: s.height, width: s.width, style: nil)
    }
}
