import ABLNet
import PoisonForge

/// LBA's parameters: a patch optimised toward the target class's mean surrogate features.
struct LBAParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "lba", displayName: "LBA (latent backdoor)", labelKind: .dirty, needsSurrogate: true,
        doc: "LBA (latent backdoor): a patch optimised so triggered images' surrogate features match the target class's mean; dirty-label; surrogate",
        fields: [
            AttackFields.dirtyRate,
            .optional("patch_fraction", .number, default: .number(0.2), "patch side as a fraction of the width (bottom-right)", [.range(0, 1, openLo: true)]),
            AttackFields.steps(200), AttackFields.batch, AttackFields.stepLR(0.05),
        ],
        parameters: LBAParameters.self)

    let patchFraction: Double
    let steps: Int
    let batch: Int
    let stepLr: Double

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        LBA(target: c.target, rate: c.rate, patchFraction: patchFraction, settings: PatchOptimiser.Settings(steps: steps, batch: batch, lr: Float(stepLr)))
    }
}
