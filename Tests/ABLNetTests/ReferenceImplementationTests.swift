import CanonicalJSON
import Foundation
import XCTest
@testable import ABLNet

/// The engine against an independent NumPy implementation of the reference WideResNet
/// (scripts/reference_wrn.py), which also checks the checkpoint's tensor names against the
/// reference model's state_dict. Skipped where python3 with numpy is missing.
final class ReferenceImplementationTests: XCTestCase {
    func testWRN161LogitsMatchTheNumPyReference() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let net = Architecture.wrn16_1.build(inputChannels: 3, numClasses: 5, seed: 4, engine: .tests)
        // a few training steps so that BatchNorm's running statistics are not the defaults
        let d = quadrantData(count: 64, size: 12, seed: 5)
        let rgb = d.pixels.flatMap { [$0, $0 &+ 30, $0 / 2] }
        let sgd = SGD(parameters: net.parameters.map(\.1), lr: 0.05)
        let ce = CrossEntropy(), x = Tensor(shape: [0])
        var rng = SeededRNG(seed: 1)
        for start in Swift.stride(from: 0, to: 64, by: 16) {
            rgb.withUnsafeBufferPointer { Batcher.fill(x, pixels: $0.baseAddress!, height: 12, width: 12, channels: 3, indices: Array(start..<(start + 16))[...], rng: &rng) }
            let l = try ce.forward(logits: try net.forward(x, mode: .train), labels: (start..<(start + 16)).map { d.labels[$0] % 5 })
            try net.backward(ce.backward(weights: Array(repeating: 1 / Float(l.count), count: l.count)))
            sgd.step()
        }
        let dir = NSTemporaryDirectory() + "abl-ref-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try SafeTensors.save(net, to: dir + "/m.safetensors")
        rgb.withUnsafeBufferPointer { Batcher.fill(x, pixels: $0.baseAddress!, height: 12, width: 12, channels: 3, indices: Array(0..<6)[...], rng: &rng) }
        let ours = try net.forward(x, mode: .eval).array
        // images as float32 NCHW .npy (header per the format spec, as NPY in PoisonForge writes it)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 3, 12, 12), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 255), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        x.array.withUnsafeBytes { bytes += $0 }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/x.npy", contents: Data(bytes)))

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", root + "/scripts/reference_wrn.py", dir + "/m.safetensors", dir + "/x.npy", "16", "1", "5"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw XCTSkip("python3 not available") }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if e.contains("No module named 'numpy'") { throw XCTSkip("numpy not installed") }
        XCTAssertEqual(p.terminationStatus, 0, e + String(decoding: o, as: UTF8.self))
        let j = try JSON.parse(bytes: [UInt8](o))
        let theirs = j["logits"]?.arrayValue?.flatMap { $0.arrayValue?.compactMap(\.doubleValue) ?? [] } ?? []
        XCTAssertEqual(theirs.count, ours.count)
        for (a, b) in zip(ours, theirs) { XCTAssertEqual(Double(a), b, accuracy: 1e-3 * max(1, abs(b))) }
    }
}
