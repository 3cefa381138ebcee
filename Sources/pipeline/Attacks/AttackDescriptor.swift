import ABLNet
import CanonicalJSON
import PoisonForge

/// Everything the pipeline knows about one attack, in one value: its manifest kind, the name
/// and label kind reports print, whether it trains against the surrogate, its own fields with
/// their defaults and rules (its variant of the `attack` section), the rules across them, and
/// the type its resolved section decodes into, which builds the attack. Every descriptor is
/// registered once, in `AttackCatalog.all`; the schema, `abl attacks` and the poison stage read
/// that list.
struct AttackDescriptor: Sendable {
    let kind: String
    let displayName: String
    let labelKind: LabelKind
    let needsSurrogate: Bool
    /// One line for the schema, the reference page and `abl attacks`.
    let doc: String
    /// The attack's own fields (besides `kind` and `target`).
    let fields: [Field]
    /// Rules across the resolved section's fields, returning issues relative to the section.
    var checks: [@Sendable (JSON) -> [ManifestIssue]] = []
    /// The type the resolved section decodes into.
    let parameters: any AttackParameters.Type
}

/// The fields every attack has, decoded from the resolved section beside its own parameters.
struct AttackCommon: Sendable {
    let target: Int
    let rate: Double
    /// Dirty-label patch and blend attacks have `mode`; the others are all-to-one.
    let mode: TargetMode
    /// Clean-label attacks have `rate_of`; the others count the whole training set.
    let rateBase: RateBase
}

/// The images an attack is built for, and the run's seed.
struct AttackShape: Sendable {
    let height: Int
    let width: Int
    let channels: Int
    let seed: UInt64
}

/// An attack's own parameters, decoded from its resolved section, and how they build it.
protocol AttackParameters: Decodable, Sendable {
    static var descriptor: AttackDescriptor { get }
    func make(_ common: AttackCommon, _ shape: AttackShape) throws -> any Attack
    /// Pixels along one side a patch trigger takes (patch plus margin), for validation; nil
    /// when the attack has no patch.
    var triggerExtent: Int? { get }
}

extension AttackParameters {
    var triggerExtent: Int? { nil }
}

/// A failure building an attack from parameters that passed validation.
struct AttackBuildError: Error, CustomStringConvertible {
    let description: String
}

/// Field declarations several attacks share.
enum AttackFields {
    static let dirtyRate = Field.optional("rate", .number, default: .number(0.1), "share of the training set that is poisoned", [.range(0, 1, openLo: true, openHi: true)])
    static let targetMode = Field.optional("mode", .choice(["all-to-one", "all-to-all"]), default: .string("all-to-one"), "all-to-one: every poisoned sample to `target`; all-to-all: class y to (y + 1) mod K")
    static func cleanRate(_ d: Double) -> Field {
        .optional("rate", .number, default: .number(d), "share of `rate_of` that is poisoned (only target-class images are)", [.range(0, 1, openLo: true)])
    }
    static let rateOf = Field.optional("rate_of", .choices(RateBase.self), default: .string("target-class"),
                                       "what `rate` counts: target-class (the label-consistent paper) or training-set (BackdoorBench's pratio)")
    static func steps(_ d: Int) -> Field { .optional("steps", .integer, default: .number(Double(d)), "optimisation steps", [.range(1, 100000)]) }
    static let batch = Field.optional("batch", .integer, default: .number(64), "images per optimisation step", [.range(1, 4096)])
    static func stepLR(_ d: Double) -> Field { .optional("step_lr", .number, default: .number(d), "Adam step size on the patch's [0, 1] values", [.range(0, 10, openLo: true)]) }

    /// The named pattern at a size; fails (validation prevents it) when it does not exist.
    static func pattern(_ name: String, size: Int) throws -> [UInt8] {
        guard let p = BadNets.pattern(named: name, size: size) else { throw AttackBuildError(description: "pattern \(name) does not exist at size \(size)") }
        return p
    }
}
