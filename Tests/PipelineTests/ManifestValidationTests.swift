import ABLNet
import CanonicalJSON
import XCTest
@testable import pipeline

final class ManifestValidationTests: XCTestCase {
    func issues(_ j: JSON) -> [ManifestIssue] {
        do { _ = try Manifest.resolve(j, file: "m.json"); return [] } catch let e as ManifestError { return e.issues } catch { return [] }
    }

    func testValidManifestResolvesDefaults() throws {
        let dir = T.tempFolder()
        let m = try Manifest.resolve(T.manifest(dir), file: "m.json")
        XCTAssertEqual(m.section("ingest")["preview"], .number(8))
        XCTAssertEqual(m.section("dataset")["size_policy"], .string("resize"))
        XCTAssertEqual(m.runFolder, dir + "/run")
    }

    func testEveryProblemIsListedAtOnceWithPathAndRule() {
        let dir = T.tempFolder()
        guard case .object(var o) = T.manifest(dir), case .object(var d) = o["dataset"]! else { return XCTFail() }
        o["name"] = nil                                   // missing field
        o["seed"] = .string("zero")                       // wrong type
        o["sede"] = .number(1)                            // unknown key (typo)
        d["train_limit"] = .number(0)                     // rule
        d["train_images"] = .string(dir + "/missing")     // unreadable path
        o["dataset"] = .object(d)
        o["ingest"] = .object(["preview_folder": .string("../../etc")]) // escapes the run folder
        let found = issues(.object(o))
        let paths = found.map(\.path)
        XCTAssertTrue(paths.contains("name"), "\(found)")
        XCTAssertTrue(found.contains { $0.path == "seed" && $0.rule.contains("integer") }, "\(found)")
        XCTAssertTrue(found.contains { $0.path == "sede" && $0.rule.contains("unknown key") && $0.rule.contains("seed") }, "\(found)")
        XCTAssertTrue(found.contains { $0.path == "dataset.train_limit" && $0.rule == "must be >= 1" }, "\(found)")
        XCTAssertTrue(found.contains { $0.path == "dataset.train_images" && $0.rule.contains("not found") }, "\(found)")
        XCTAssertTrue(found.contains { $0.path == "ingest.preview_folder" && $0.rule.contains("inside the run folder") }, "\(found)")
    }

    func testNameMayNotEscape() {
        let dir = T.tempFolder()
        XCTAssertTrue(issues(T.manifest(dir, extra: ["name": .string("../x")])).contains { $0.path == "name" })
    }

    func testFormatSpecificKeysAreCheckedPerFormat() {
        let dir = T.tempFolder()
        let wrong = T.manifest(dir, extra: ["dataset": .object(["format": .string("fashion-mnist"), "train_files": .array([])])])
        XCTAssertTrue(issues(wrong).contains { $0.path == "dataset.train_files" && $0.rule.hasPrefix("unknown key") })
        let folder = T.manifest(dir, extra: ["dataset": .object(["format": .string("image-folder"), "root": .string(dir), "test_ratio": .number(1.5),
                                                                  "channels": .number(3), "height": .number(8), "width": .number(8)])])
        XCTAssertTrue(issues(folder).contains { $0 == ManifestIssue(path: "dataset.test_ratio", rule: "must be > 0 and < 1") }, "\(issues(folder))")
        let unknownFormat = T.manifest(dir, extra: ["dataset": .object(["format": .string("mnist-ish")])])
        XCTAssertTrue(issues(unknownFormat).contains { $0.path == "dataset.format" && $0.rule.contains("one of") })
    }

    func testSyntaxErrorsNameLineAndColumn() throws {
        let dir = T.tempFolder()
        T.write(Array("{\n  \"name\": \"x\",\n  \"seed\": ,\n}".utf8), dir + "/bad.json")
        XCTAssertThrowsError(try Manifest.load(dir + "/bad.json")) { e in
            XCTAssertTrue("\(e)".contains("line 3"), "\(e)")
            XCTAssertTrue("\(e)".contains(dir + "/bad.json"), "\(e)")
        }
        XCTAssertThrowsError(try JSON.parse("{\"a\": 1, \"a\": 2}")) { e in XCTAssertTrue("\(e)".contains("duplicate key")) }
    }

    func testShippedSchemaAndDocsMatchTheSpecification() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let schema = try String(contentsOfFile: root + "/manifests/abl-manifest.schema.json", encoding: .utf8)
        XCTAssertEqual(schema, SchemaExport.jsonSchema().pretty, "regenerate with: abl schema > manifests/abl-manifest.schema.json")
        let doc = try String(contentsOfFile: root + "/docs/MANIFEST.md", encoding: .utf8)
        XCTAssertTrue(doc.contains(SchemaExport.markdownReference()), "regenerate the reference in docs/MANIFEST.md with: abl schema --markdown")
    }

    func testShippedManifestsAreValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let e = FileManager.default.enumerator(atPath: root + "/manifests")!
        var n = 0
        while let f = e.nextObject() as? String {
            guard f.hasSuffix(".json") && !f.contains("schema") else { continue }
            let j = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: root + "/manifests/" + f)!))
            var issues: [ManifestIssue] = []
            let resolved = ManifestSchema.root.resolve(j, path: "", issues: &issues)
            // the typed configuration reads every field the schema resolves (they cannot drift apart)
            XCTAssertNoThrow(try RunConfig.decode(resolved), f)
            // Paths of the Debian dataset may be absent on a machine without the package; every other rule must hold.
            XCTAssertEqual(issues.filter { !$0.rule.contains("dataset-fashion-mnist") && !$0.rule.contains("not found") }, [], f)
            n += 1
        }
        XCTAssertGreaterThan(n, 0)
    }
}
