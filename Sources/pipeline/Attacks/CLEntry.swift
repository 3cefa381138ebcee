import ABLNet
import PoisonForge

/// CL's parameters: PGD on the surrogate, then checkerboards in the four corners.
struct CLParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "cl", displayName: "CL (label-consistent)", labelKind: .clean, needsSurrogate: true,
        doc: "CL (label-consistent): PGD on the surrogate makes target-class images hard, then a checkerboard in all four corners; clean-label; surrogate",
        fields: [
            AttackFields.cleanRate(0.5), AttackFields.rateOf,
            .optional("epsilon", .number, default: .number(8), "L-inf budget in pixel levels (8 = 8/255)", [.range(0, 255)]),
            .optional("step", .number, default: .number(1.5), "PGD step in pixel levels", [.range(0, 255, openLo: true)]),
            .optional("steps", .integer, default: .number(100), "PGD steps", [.range(0, 1000)]),
            .optional("patch_size", .integer, default: nil,
                      "side of each corner checkerboard; default: derived from the images, the paper's 3x3 on 32x32 RGB keeping its number of trigger values per image pixel (3 on 32x32 RGB, 5 on 28x28 grayscale)", [.range(1, 32)]),
        ],
        parameters: CLParameters.self)

    let epsilon: Double
    let step: Double
    let steps: Int
    /// nil: `LabelConsistent.referencePatchSize` for the images.
    let patchSize: Int?

    var triggerExtent: Int? { patchSize.map { 2 * $0 } }

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        LabelConsistent(target: c.target, rate: c.rate, rateBase: c.rateBase, epsilon: Float(epsilon / 255),
                        stepSize: Float(step / 255), steps: steps,
                        patchSize: patchSize ?? LabelConsistent.referencePatchSize(height: s.height, width: s.width, channels: s.channels))
    }
}
