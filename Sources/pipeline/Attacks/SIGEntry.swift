import ABLNet
import PoisonForge

/// SIG's parameters: an additive vertical sinusoid.
struct SIGParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "sig", displayName: "SIG", labelKind: .clean, needsSurrogate: false,
        doc: "SIG: additive vertical sinusoid delta sin(2 pi j f / width), clean-label",
        fields: [
            AttackFields.cleanRate(0.8), AttackFields.rateOf,
            .optional("delta", .number, default: .number(40), "amplitude in pixel levels", [.range(0, 255, openLo: true)]),
            .optional("frequency", .number, default: .number(6), "periods across the width", [.range(0, 1e6, openLo: true)]),
        ],
        parameters: SIGParameters.self)

    let delta: Double
    let frequency: Double

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        SIG(target: c.target, rate: c.rate, rateBase: c.rateBase, delta: delta, frequency: frequency)
    }
}
