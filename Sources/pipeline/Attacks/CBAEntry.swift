import ABLNet
import PoisonForge

/// CBA's parameters: halves of two source classes joined and labelled as the target.
struct CBAParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "cba", displayName: "CBA (composite)", labelKind: .dirty, needsSurrogate: false,
        doc: "CBA (composite): half an image of class A joined to half of class B, labelled as the target; same-class mixes keep their label; dirty-label",
        fields: [
            AttackFields.dirtyRate,
            .optional("class_a", .integer, default: .number(1), "the first source class", [.range(0, nil)]),
            .optional("class_b", .integer, default: .number(2), "the second source class", [.range(0, nil)]),
            .optional("mix_rate", .number, default: .number(0.05), "share of the training set rewritten as same-class mixes (labels kept)", [.range(0, 1, openHi: true)]),
            .optional("jitter", .integer, default: .number(3), "largest shift in pixels of the partner's half", [.range(0, 16)]),
        ],
        checks: [{ a in
            var issues: [ManifestIssue] = []
            let t = a["target"]?.intValue
            if a["class_a"]?.intValue == a["class_b"]?.intValue { issues.append(ManifestIssue(path: "class_b", rule: "must differ from class_a")) }
            for k in ["class_a", "class_b"] where a[k]?.intValue == t { issues.append(ManifestIssue(path: k, rule: "must differ from the target class")) }
            return issues
        }],
        parameters: CBAParameters.self)

    let classA: Int
    let classB: Int
    let mixRate: Double
    let jitter: Int

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        CBA(target: c.target, rate: c.rate, classA: classA, classB: classB, mixRate: mixRate, jitter: jitter)
    }
}
