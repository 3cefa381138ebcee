import ABLNet
import CanonicalJSON
import XCTest

final class CanonicalJSONTests: XCTestCase {
    func testCosmeticDifferencesCanonicaliseIdentically() throws {
        let a = try JSON.parse("{\"b\": 1.0, \"a\": [1e0, 0.10, \"x\"], \"c\": {\"z\": true, \"y\": null}}")
        let b = try JSON.parse("{\n  \"c\": {\"y\": null, \"z\": true},\n  \"a\": [1, 0.1, \"x\"],\n  \"b\": 1\n}")
        XCTAssertEqual(a.canonical, b.canonical)
        XCTAssertEqual(a.canonical, "{\"a\":[1,0.1,\"x\"],\"b\":1,\"c\":{\"y\":null,\"z\":true}}")
        XCTAssertNotEqual(a.canonical, try JSON.parse("{\"b\": 1.5}").canonical)
    }

    func testStringEscapesRoundTrip() throws {
        let s = JSON.string("q\"u\\o\n\tt\u{1}é😀")
        XCTAssertEqual(try JSON.parse(s.canonical), s)
        XCTAssertEqual(try JSON.parse("\"\\ud83d\\ude00\""), .string("😀"))
    }
}
