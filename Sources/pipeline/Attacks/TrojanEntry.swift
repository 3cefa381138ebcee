import ABLNet
import PoisonForge

/// Trojan's parameters: a patch optimised on the surrogate to drive chosen neurons.
struct TrojanParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "trojan", displayName: "Trojan (TrojanNN trigger)", labelKind: .dirty, needsSurrogate: true,
        doc: "Trojan (TrojanNN trigger): a patch optimised on the surrogate so that the most strongly connected penultimate neurons fire; dirty-label; surrogate",
        fields: [
            AttackFields.dirtyRate, AttackFields.targetMode,
            .optional("patch_size", .integer, default: .number(3), "side of the square patch in pixels", [.range(1, 64)]),
            .optional("margin", .integer, default: .number(4), "pixels between the patch and the bottom-right border", [.range(0, 64)]),
            .optional("neurons", .integer, default: .number(2), "how many feature channels the patch drives", [.range(1, 4096)]),
            .optional("activation_gain", .number, default: .number(10), "goal activation = this x the channel's largest clean activation", [.range(0, 1e6, openLo: true)]),
            AttackFields.steps(200), AttackFields.batch, AttackFields.stepLR(0.05),
        ],
        parameters: TrojanParameters.self)

    let patchSize: Int
    let margin: Int
    let neurons: Int
    let activationGain: Double
    let steps: Int
    let batch: Int
    let stepLr: Double

    var triggerExtent: Int? { patchSize + margin }

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        Trojan(target: c.target, rate: c.rate, targetMode: c.mode, patchSize: patchSize, margin: margin, neurons: neurons,
               activationGain: Float(activationGain), settings: PatchOptimiser.Settings(steps: steps, batch: batch, lr: Float(stepLr)))
    }
}
