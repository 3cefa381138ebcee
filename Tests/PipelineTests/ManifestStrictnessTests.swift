import ABLNet
import CanonicalJSON
import XCTest
@testable import pipeline

/// Values a manifest may not hold even though they parse: each is refused with its JSON path.
final class ManifestStrictnessTests: XCTestCase {
    /// The issues `abl validate` reports for manifest text written to a file.
    func issues(_ text: String, _ dir: String) -> [ManifestIssue] {
        T.write(Array(text.utf8), dir + "/m.json")
        do { _ = try Manifest.load(dir + "/m.json"); return [] } catch let e as ManifestError { return e.issues } catch { return [] }
    }

    /// The small valid manifest as text with one top-level entry replaced by raw JSON text.
    func manifestText(_ dir: String, _ key: String, _ raw: String) -> String {
        guard case .object(var o) = T.manifest(dir) else { return "" }
        o[key] = nil
        let body = JSON.object(o).canonical.dropLast()
        return String(body) + ",\"\(key)\":\(raw)}"
    }

    func testLeadingZeroIsNotJSON() {
        let dir = T.tempFolder()
        let found = issues(manifestText(dir, "seed", "00"), dir)
        XCTAssertTrue(found.contains { $0.path == "(syntax)" && $0.rule.contains("leading zero") }, "\(found)")
    }

    func testNullSeedIsRefused() {
        let dir = T.tempFolder()
        let found = issues(manifestText(dir, "seed", "null"), dir)
        XCTAssertTrue(found.contains { $0.path == "seed" && $0.rule.contains("found null") }, "\(found)")
    }

    func testNullSectionIsRefused() {
        let dir = T.tempFolder()
        let found = issues(manifestText(dir, "model", "null"), dir)
        XCTAssertTrue(found.contains { $0.path == "model" && $0.rule.contains("must be an object, found null") }, "\(found)")
    }

    func testNullInsideASectionIsRefused() {
        let dir = T.tempFolder()
        let found = issues(manifestText(dir, "isolate", "{\"gamma\": null}"), dir)
        XCTAssertTrue(found.contains { $0.path == "isolate.gamma" && $0.rule.contains("found null") }, "\(found)")
    }

    func testRepeatedClassNamesAreRefused() {
        let dir = T.tempFolder()
        guard case .object(var d) = T.idxSection(in: dir) else { return XCTFail() }
        d["class_names"] = .array([.string("a"), .string("b"), .string("a")])
        let found = issues(T.manifest(dir, extra: ["dataset": .object(d)]).pretty, dir)
        XCTAssertTrue(found.contains { $0.path == "dataset.class_names" && $0.rule.contains("repeat") }, "\(found)")
    }

    func testOutputThatIsAFileIsRefused() {
        let dir = T.tempFolder()
        T.write([1], dir + "/taken")
        let found = issues(T.manifest(dir, extra: ["output": .string(dir + "/taken")]).pretty, dir)
        XCTAssertTrue(found.contains { $0.path == "output" && $0.rule.contains("existing file") }, "\(found)")
    }

    func testOutputFolderThatExistsIsAccepted() {
        let dir = T.tempFolder()
        XCTAssertEqual(issues(T.manifest(dir, extra: ["output": .string(dir)]).pretty, dir), [])
    }
}
