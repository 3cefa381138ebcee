import ABLNet
import PoisonForge
import XCTest
@testable import pipeline

/// Each attack's descriptor agrees with the attack it builds.
final class AttackCatalogTests: XCTestCase {
    /// The typed `attack` section with every default, for a kind.
    func config(_ kind: String) throws -> AttackConfig {
        var issues: [ManifestIssue] = []
        let resolved = ManifestSchema.attack.resolve(.object(["kind": .string(kind)]), path: "attack", issues: &issues)
        XCTAssertEqual(issues, [], kind)
        return try XCTUnwrap(RunConfig.decodeSection(AttackConfig.self, resolved), kind)
    }

    func testEveryDescriptorDescribesTheAttackItBuilds() throws {
        for d in AttackCatalog.all {
            let attack = try config(d.kind).make(AttackShape(height: 32, width: 32, channels: 3, seed: 0))
            XCTAssertEqual(attack.kind, d.kind)
            XCTAssertEqual(attack.displayName, d.displayName, d.kind)
            XCTAssertEqual(attack.labelKind, d.labelKind, d.kind)
            XCTAssertEqual(attack.needsSurrogate, d.needsSurrogate, d.kind)
        }
    }

    func testKindsAreUnique() {
        XCTAssertEqual(Set(AttackCatalog.kinds).count, AttackCatalog.all.count)
    }

    func testRulesAcrossFieldsBelongToTheirAttack() {
        var issues: [ManifestIssue] = []
        _ = ManifestSchema.attack.resolve(.object(["kind": .string("badnets"), "patch_size": .number(4)]), path: "attack", issues: &issues)
        XCTAssertEqual(issues.map(\.path), ["attack.pattern"])
        issues = []
        _ = ManifestSchema.attack.resolve(.object(["kind": .string("cba"), "class_a": .number(1), "class_b": .number(1)]), path: "attack", issues: &issues)
        XCTAssertEqual(issues.map(\.path), ["attack.class_b"])
    }

    func testEveryAttackParameterErrorNamesAManifestKey() {
        let keys = Set(ManifestSchema.attack.fields.map(\.key) + AttackCatalog.all.flatMap { $0.fields.map(\.key) })
        for p in AttackParameterError.Parameter.allCases {
            let key = PoisonStage.manifestKey(p)
            XCTAssertTrue(key.hasPrefix("attack.") && keys.contains(String(key.dropFirst("attack.".count))), "\(p) -> \(key)")
        }
    }
}
