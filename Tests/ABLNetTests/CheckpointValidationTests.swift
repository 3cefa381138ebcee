import CanonicalJSON
import Foundation
import XCTest
@testable import ABLNet

/// Damaged checkpoints: a format error says what is wrong with the file (not that it "does not
/// fit"), non-finite weights and negative variances are refused, and the network is left unchanged.
final class CheckpointValidationTests: XCTestCase {
    private func saved() throws -> (net: Network, path: String) {
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 3, seed: 2, engine: .tests)
        let path = NSTemporaryDirectory() + "abl-ckpt-\(UUID().uuidString).safetensors"
        try SafeTensors.save(net, to: path)
        return (net, path)
    }

    /// The file's header object and data section.
    private func parts(_ path: String) throws -> (header: [String: JSON], data: [UInt8]) {
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let len = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        return (try JSON.parse(bytes: Array(bytes[8..<(8 + len)])).objectValue!, Array(bytes[(8 + len)...]))
    }

    private func write(_ header: [String: JSON], _ data: [UInt8], to path: String) {
        var text = Array(JSON.object(header).canonical.utf8)
        while text.count % 8 != 0 { text.append(0x20) }
        let len = (0..<8).map { UInt8(UInt64(text.count) >> (8 * UInt64($0)) & 255) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(len + text + data)))
    }

    private func assertFormatError(_ net: Network, _ path: String, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.load(into: net, from: path), file: file, line: line) { e in
            let msg = "\(e)"
            guard case ABLNetError.checkpointFormat = e else { return XCTFail("not a format error: \(msg)", file: file, line: line) }
            XCTAssertTrue(msg.hasPrefix(path + ": not a valid safetensors checkpoint") && msg.contains(needle), msg, file: file, line: line)
        }
    }

    func testNonIntegerShapeOrOffsetEntriesAreRejected() throws {
        let (net, path) = try saved()
        var (h, data) = try parts(path)
        var e = h["fc.weight"]!.objectValue!
        e["shape"] = .array(e["shape"]!.arrayValue! + [.string("x")])
        h["fc.weight"] = .object(e)
        write(h, data, to: path)
        assertFormatError(net, path, "fc.weight: shape holds \"x\"")
        (h, data) = try parts(try saved().path)
        e = h["fc.bias"]!.objectValue!
        e["data_offsets"] = .array([e["data_offsets"]!.arrayValue![0], .number(1.5)])
        h["fc.bias"] = .object(e)
        write(h, data, to: path)
        assertFormatError(net, path, "fc.bias: data_offsets holds 1.5")
    }

    func testOverlappingTensorRangesAreRejected() throws {
        let (net, path) = try saved()
        var h = try parts(path).header
        let data = try parts(path).data
        // fc.bias made to read fc.weight's first bytes.
        let begin = h["fc.weight"]!["data_offsets"]!.arrayValue![0].intValue!
        let size = h["fc.bias"]!["data_offsets"]!.arrayValue![1].intValue! - h["fc.bias"]!["data_offsets"]!.arrayValue![0].intValue!
        var e = h["fc.bias"]!.objectValue!
        e["data_offsets"] = .array([.number(Double(begin)), .number(Double(begin + size))])
        h["fc.bias"] = .object(e)
        write(h, data, to: path)
        assertFormatError(net, path, "overlap")
    }

    func testInfiniteAndNaNWeightsAndNegativeVarianceAreRejected() throws {
        for (tensor, value) in [("fc.weight", Float.infinity), ("features.0.weight", Float.nan), ("features.1.running_var", Float(-1))] {
            let (net, path) = try saved()
            let before = net.layers.flatMap { $0.1.parameters(prefix: $0.0).flatMap { Array(UnsafeBufferPointer(start: $0.1.value.data, count: $0.1.value.count)) } }
            let h = try parts(path).header
            var data = try parts(path).data
            let begin = h[tensor]!["data_offsets"]!.arrayValue![0].intValue!
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange((begin + 4)..<(begin + 8), with: $0) }
            write(h, data, to: path)
            assertFormatError(net, path, "\(tensor) holds")
            let after = net.layers.flatMap { $0.1.parameters(prefix: $0.0).flatMap { Array(UnsafeBufferPointer(start: $0.1.value.data, count: $0.1.value.count)) } }
            XCTAssertEqual(before, after, "a refused checkpoint leaves the network unchanged")
        }
    }

    func testPlainFormatErrorsNameTheFileAndWhatIsWrong() throws {
        let (net, path) = try saved()
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3])))
        assertFormatError(net, path, "shorter than the 8-byte header length")
        let link = path + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
        assertFormatError(net, link, "character device")
    }

    func testAModelMismatchIsNotAFormatError() throws {
        let (_, path) = try saved()
        let other = Architecture.smallCNN.build(inputChannels: 1, numClasses: 5, seed: 2, engine: .tests)
        XCTAssertThrowsError(try SafeTensors.load(into: other, from: path)) { e in
            guard case ABLNetError.checkpoint = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("fc.weight") && "\(e)".contains("shape"), "\(e)")
        }
    }
}
