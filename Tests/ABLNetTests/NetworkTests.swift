import Foundation
import XCTest
@testable import ABLNet

final class NetworkTests: XCTestCase {

    /// Whole WRN-10-1 with BatchNorm in eval mode (random running statistics, so every BN is a
    /// fixed affine map): every parameter tensor and the input gradient, entry by entry. The
    /// network is then piecewise linear: the backward must equal the left or the right one-sided
    /// slope exactly (3 % here, for Float32). Central differences are not usable: one near-zero
    /// ReLU late in the network puts a kink within 1e-3 of the operating point for many weights.
    func testWholeSmallWRNGradientsAndInputGradient() throws {
        let net = Models.wideResNet(depth: 10, widen: 1, inputChannels: 1, numClasses: 3, seed: 2, engine: .tests)
        net.inputGradient = true
        var rng = SeededRNG(seed: 10)
        for (_, bn) in net.batchNorms {
            for c in 0..<bn.channels {
                bn.runningMean.data[c] = rng.normal() * 0.1
                bn.runningVar.data[c] = 0.5 + rng.unitFloat()
            }
        }
        // Few pixels, few ReLUs: a 1e-3 step then rarely crosses a kink (with 3x12x12 inputs, ~35k
        // ReLUs, it crosses about ten).
        let x = GradCheck.randomTensor([2, 1, 5, 5], &rng)
        let fwd = { try net.forward(x, mode: .eval).copy() }
        try GradCheck.check("wrn input", target: x, samples: 16, step: 1e-3, tolerance: 3e-2, piecewiseLinear: true, forward: fwd, backward: { try net.backward($0) })
        for (name, p) in net.parameters {
            try GradCheck.check("wrn " + name, target: p.value, samples: 24, step: 1e-3, tolerance: 3e-2, piecewiseLinear: true, forward: fwd, backward: { _ = try net.backward($0); return p.grad })
        }
    }

    /// The same network in training mode (batch statistics couple the samples). Small batches
    /// make the function strongly curved and Float32 limits how small the step can be, so the
    /// tolerance is 10 %; per-layer checks test BatchNorm's batch-statistics backward at 2 %.
    func testWholeSmallWRNGradientsInTrainingMode() throws {
        let net = Models.wideResNet(depth: 10, widen: 1, inputChannels: 1, numClasses: 3, seed: 2, engine: .tests)
        net.inputGradient = true
        var rng = SeededRNG(seed: 10)
        let x = GradCheck.randomTensor([3, 1, 6, 6], &rng)
        let fwd = { try net.forward(x, mode: .train).copy() }
        for (name, p) in net.parameters where ["conv1.weight", "block2.layer.0.convShortcut.weight", "block3.layer.0.conv1.weight", "fc.weight"].contains(name) {
            try GradCheck.check("wrn train " + name, target: p.value, samples: 12, step: 1e-3, tolerance: 0.1, forward: fwd, backward: { _ = try net.backward($0); return p.grad })
        }
        try GradCheck.check("wrn train input", target: x, samples: 12, step: 1e-3, tolerance: 0.1, forward: fwd, backward: { try net.backward($0) })
    }

    func testWRN161HasTheReferenceStateDictNamesAndSize() {
        let net = Architecture.wrn16_1.build(inputChannels: 3, numClasses: 10, seed: 0, engine: .tests)
        let names = net.parameters.map(\.0)
        XCTAssertEqual(names.first, "conv1.weight")
        XCTAssertTrue(names.contains("block1.layer.0.bn1.weight"))
        XCTAssertTrue(names.contains("block2.layer.0.convShortcut.weight"))
        XCTAssertFalse(names.contains("block1.layer.0.convShortcut.weight"))
        XCTAssertEqual(names.suffix(4), ["bn1.weight", "bn1.bias", "fc.weight", "fc.bias"])
        XCTAssertEqual(net.parameterCount, 175_066) // PyTorch: sum(p.numel()) of the reference WRN-16-1, 10 classes
        XCTAssertTrue(net.buffers.map(\.0).contains("block3.layer.1.bn2.running_var"))
    }

    func testAnyInputSizeAndChannelCountAndFeatures() throws {
        for (c, s) in [(1, 28), (3, 32), (3, 20)] {
            let net = Architecture.wrn16_1.build(inputChannels: c, numClasses: 10, seed: 1, engine: .tests)
            let x = Tensor(shape: [2, c, s, s])
            let y = try net.forward(x, mode: .eval)
            XCTAssertEqual(y.shape, [2, 10])
            XCTAssertEqual(net.features?.shape, [2, 64])
        }
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 1, engine: .tests)
        XCTAssertThrowsError(try net.forward(Tensor(shape: [2, 3, 8, 8]), mode: .eval)) { e in XCTAssertTrue("\(e)".contains("small-cnn"), "\(e)") }
        XCTAssertThrowsError(try net.forward(Tensor(shape: [0, 1, 8, 8]), mode: .eval)) { e in XCTAssertTrue("\(e)".contains("empty batch"), "\(e)") }
    }

    func testSGDMatchesPyTorchUpdateRule() {
        let p = Parameter(shape: [1])
        p.value.data[0] = 1
        let sgd = SGD(parameters: [p], lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        p.grad.data[0] = 0.5
        sgd.step()
        // d = 0.5 + 0.01*1 = 0.51; buf = 0.51; step = d + 0.9*buf = 0.969; p = 1 - 0.0969
        XCTAssertEqual(p.value.data[0], 0.9031, accuracy: 1e-6)
        p.grad.data[0] = 0.5
        sgd.step()
        // d = 0.5 + 0.01*0.9031 = 0.509031; buf = 0.9*0.51 + d = 0.968031; step = d + 0.9*buf = 1.3802589
        XCTAssertEqual(p.value.data[0], 0.9031 - 0.13802589, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.multiStep(base: 0.1, milestones: [5], gamma: 0.1).lr(epoch: 5), 0.01, accuracy: 1e-9)
        XCTAssertEqual(LRSchedule.multiStep(base: 0.1, milestones: [5], gamma: 0.1).lr(epoch: 4), 0.1, accuracy: 1e-9)
    }

    func testAugmentationIsSeededAndKeepsShape() {
        let px = (0..<(2 * 6 * 6)).map { UInt8($0 % 251) }
        let a = Tensor(shape: [0]), b = Tensor(shape: [0])
        var r1 = SeededRNG(seed: 3), r2 = SeededRNG(seed: 3)
        px.withUnsafeBufferPointer {
            Batcher.fill(a, pixels: $0.baseAddress!, height: 6, width: 6, channels: 1, indices: [0, 1], aug: .reference, rng: &r1)
            Batcher.fill(b, pixels: $0.baseAddress!, height: 6, width: 6, channels: 1, indices: [0, 1], aug: .reference, rng: &r2)
        }
        XCTAssertEqual(a.array, b.array)
        XCTAssertEqual(a.shape, [2, 1, 6, 6])
        var r3 = SeededRNG(seed: 0)
        px.withUnsafeBufferPointer { Batcher.fill(a, pixels: $0.baseAddress!, height: 6, width: 6, channels: 1, indices: [1], rng: &r3) }
        XCTAssertEqual(a.data[0], Float(px[36]) / 255)
    }
}
