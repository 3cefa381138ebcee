import PoisonForge

/// The attacks a manifest can name: one descriptor each, in the order the schema, the reference
/// page and `abl attacks` list them. An attack is added here and in its own entry file.
enum AttackCatalog {
    static let all: [AttackDescriptor] = [
        BadNetsParameters.descriptor, TrojanParameters.descriptor, BlendParameters.descriptor, DynamicParameters.descriptor,
        SIGParameters.descriptor, CLParameters.descriptor, FCParameters.descriptor, DFSTParameters.descriptor,
        LBAParameters.descriptor, CBAParameters.descriptor,
    ]

    static var kinds: [String] { all.map(\.kind) }

    static func descriptor(_ kind: String) -> AttackDescriptor? { all.first { $0.kind == kind } }
}
