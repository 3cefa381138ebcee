import ABLNet
import PoisonForge

/// FC's parameters: target-class images perturbed toward patched images' surrogate features.
struct FCParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "fc", displayName: "FC (feature collision, hidden-trigger style)", labelKind: .clean, needsSurrogate: true,
        doc: "FC (feature collision, hidden-trigger style): target-class images perturbed so their surrogate features collide with patched non-target images; clean-label; surrogate",
        fields: [
            AttackFields.cleanRate(0.5), AttackFields.rateOf,
            .optional("epsilon", .number, default: .number(16), "L-inf budget in pixel levels", [.range(0, 255)]),
            .optional("step", .number, default: .number(2), "PGD step in pixel levels", [.range(0, 255, openLo: true)]),
            .optional("steps", .integer, default: .number(50), "PGD steps", [.range(0, 1000)]),
            .optional("patch_size", .integer, default: .number(4), "side of the test-time patch (bottom-right)", [.range(1, 64)]),
            .optional("pattern", .choice(["checkerboard", "white"]), default: .string("checkerboard"), "the patch's pattern"),
        ],
        parameters: FCParameters.self)

    let epsilon: Double
    let step: Double
    let steps: Int
    let patchSize: Int
    let pattern: String

    var triggerExtent: Int? { patchSize }

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        FeatureCollision(target: c.target, rate: c.rate, rateBase: c.rateBase, epsilon: Float(epsilon / 255), stepSize: Float(step / 255), steps: steps,
                         patch: BadNets(target: c.target, rate: c.rate, targetMode: .allToOne, size: patchSize,
                                        pattern: try AttackFields.pattern(pattern, size: patchSize), corner: .bottomRight, margin: 0))
    }
}
