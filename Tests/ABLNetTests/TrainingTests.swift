import Foundation
import XCTest
@testable import ABLNet

/// A synthetic 4-class problem: each class lights a different quadrant, plus noise.
func quadrantData(count: Int, size: Int = 12, seed: UInt64) -> (pixels: [UInt8], labels: [Int]) {
    var rng = SeededRNG(seed: seed)
    var px = [UInt8](repeating: 0, count: count * size * size), labels = [Int]()
    for i in 0..<count {
        let c = i % 4
        labels.append(c)
        for y in 0..<size { for x in 0..<size {
            let inQ = (y < size / 2) == (c < 2) && (x < size / 2) == (c % 2 == 0)
            let v = (inQ ? 150 : 40) + rng.int(below: 90)
            px[i * size * size + y * size + x] = UInt8(min(255, v))
        } }
    }
    return (px, labels)
}

/// Trains `net` for some epochs of SGD on the data; returns nothing, the weights change.
func train(_ net: Network, pixels: [UInt8], labels: [Int], size: Int, epochs: Int, lr: Float, seed: UInt64) throws {
    let sgd = SGD(parameters: net.parameters.map(\.1), lr: lr)
    let ce = CrossEntropy()
    var rng = SeededRNG(seed: seed, stream: "shuffle")
    let x = Tensor(shape: [0])
    for _ in 0..<epochs {
        let order = rng.permutation(labels.count)
        for start in stride(from: 0, to: order.count, by: 32) {
            let idx = order[start..<min(start + 32, order.count)]
            pixels.withUnsafeBufferPointer { Batcher.fill(x, pixels: $0.baseAddress!, height: size, width: size, channels: 1, indices: idx, rng: &rng) }
            let logits = try net.forward(x, mode: .train)
            let l = try ce.forward(logits: logits, labels: idx.map { labels[$0] })
            try net.backward(ce.backward(weights: Array(repeating: 1 / Float(l.count), count: l.count)))
            sgd.step()
        }
    }
}

final class TrainingTests: XCTestCase {

    /// Chance is 25 %; the small CNN must reach at least 90 % on held-out data.
    func testSmallCNNLearnsASyntheticTask() throws {
        let tr = quadrantData(count: 512, seed: 1), te = quadrantData(count: 200, seed: 2)
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 7, engine: .tests)
        try train(net, pixels: tr.pixels, labels: tr.labels, size: 12, epochs: 4, lr: 0.05, seed: 1)
        let r = try Evaluator.run(net, pixels: te.pixels, count: 200, height: 12, width: 12, channels: 1, labels: te.labels)
        let acc = Double(zip(r.predictions, te.labels).filter { $0 == $1 }.count) / 200
        XCTAssertGreaterThanOrEqual(acc, 0.9, "accuracy \(acc)")
    }

    func testSameSeedAndThreadsGiveTheSameWeights() throws {
        let d = quadrantData(count: 96, seed: 3)
        func weights() throws -> [Float] {
            let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 4, seed: 5, engine: .tests)
            try train(net, pixels: d.pixels, labels: d.labels, size: 12, epochs: 1, lr: 0.05, seed: 9)
            return net.parameters.flatMap { $0.1.value.array }
        }
        XCTAssertEqual(try weights(), try weights())
    }

    func testCheckpointRoundTripGivesIdenticalPredictions() throws {
        let d = quadrantData(count: 64, seed: 4)
        let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 4, seed: 5, engine: .tests)
        try train(net, pixels: d.pixels, labels: d.labels, size: 12, epochs: 1, lr: 0.05, seed: 1)
        let path = NSTemporaryDirectory() + "abl-ckpt-\(UUID().uuidString).safetensors"
        try SafeTensors.save(net, to: path, metadata: ["note": "test"])
        let copy = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 4, seed: 99, engine: .tests)
        try SafeTensors.load(into: copy, from: path)
        let a = try Evaluator.run(net, pixels: d.pixels, count: 64, height: 12, width: 12, channels: 1, labels: d.labels)
        let b = try Evaluator.run(copy, pixels: d.pixels, count: 64, height: 12, width: 12, channels: 1, labels: d.labels)
        XCTAssertEqual(a.predictions, b.predictions)
        XCTAssertEqual(a.losses, b.losses)
        XCTAssertEqual(try SafeTensors.metadata(at: path)["architecture"], "wrn-16-1")
        XCTAssertEqual(copy.batchNorms.first?.1.numBatchesTracked, net.batchNorms.first?.1.numBatchesTracked)
    }

    func testCheckpointLoadingRejectsMismatchesAndCorruption() throws {
        let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 4, seed: 5, engine: .tests)
        let path = NSTemporaryDirectory() + "abl-ckpt-\(UUID().uuidString).safetensors"
        try SafeTensors.save(net, to: path)
        let other = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 10, seed: 5, engine: .tests)
        XCTAssertThrowsError(try SafeTensors.load(into: other, from: path)) { e in XCTAssertTrue("\(e)".contains("fc.weight") && "\(e)".contains("shape"), "\(e)") }
        let cnn = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 5, engine: .tests)
        XCTAssertThrowsError(try SafeTensors.load(into: cnn, from: path)) { e in XCTAssertTrue("\(e)".contains("missing"), "\(e)") }
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(bytes.count - 100))))
        XCTAssertThrowsError(try SafeTensors.load(into: net, from: path)) { e in XCTAssertTrue("\(e)".contains("outside the data"), "\(e)") }
        bytes[0] = 0xFF; bytes[5] = 0x7F
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        XCTAssertThrowsError(try SafeTensors.load(into: net, from: path)) { e in XCTAssertTrue("\(e)".contains("header length"), "\(e)") }
        XCTAssertThrowsError(try SafeTensors.load(into: net, from: "/nonexistent.safetensors")) { e in XCTAssertTrue("\(e)".contains("no such file"), "\(e)") }
    }
}
