import ABLNet
import PoisonForge

/// BadNets' parameters: a pixel patch in one corner.
struct BadNetsParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "badnets", displayName: "BadNets", labelKind: .dirty, needsSurrogate: false,
        doc: "BadNets: a pixel patch on every channel, dirty-label",
        fields: [
            AttackFields.dirtyRate, AttackFields.targetMode,
            .optional("patch_size", .integer, default: .number(3), "side of the square patch in pixels", [.range(1, 64)]),
            .optional("pattern", .choice(["reference", "checkerboard", "white"]), default: .string("reference"),
                      "reference: the ABL code's 3x3 grid [[0,0,255],[0,255,0],[255,0,255]] (size 3 only); checkerboard; white"),
            .optional("corner", .choices(BadNets.Corner.self), default: .string("bottom-right"), "where the patch sits"),
            .optional("margin", .integer, default: .number(0), "pixels between the patch and the image border", [.range(0, 64)]),
        ],
        checks: [{ a in
            a["pattern"]?.stringValue == "reference" && a["patch_size"]?.intValue != 3
                ? [ManifestIssue(path: "pattern", rule: "the reference pattern is 3x3: set patch_size to 3 or choose checkerboard or white")] : []
        }],
        parameters: BadNetsParameters.self)

    let patchSize: Int
    let pattern: String
    let corner: BadNets.Corner
    let margin: Int

    var triggerExtent: Int? { patchSize + margin }

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        BadNets(target: c.target, rate: c.rate, targetMode: c.mode, size: patchSize, pattern: try AttackFields.pattern(pattern, size: patchSize),
                corner: corner, margin: margin)
    }
}
