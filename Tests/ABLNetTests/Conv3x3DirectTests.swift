import XCTest
@testable import ABLNet

/// The direct 3x3 kernels against the im2col + sgemm path (itself checked against finite
/// differences and a loop-nest convolution in LayerGradientTests), on widths that are and are
/// not multiples of the 8-wide vector, and against finite differences on their own.
final class Conv3x3DirectTests: XCTestCase {
    /// The engine with the direct kernels on or off.
    static func engine(direct: Bool, workers: Int = 2) -> EngineSettings {
        var c = ConvSettings()
        c.directKernels = direct
        return EngineSettings(workers: workers, conv: c)
    }

    /// Output, input gradient and weight gradient of `conv`'s twin with the given path.
    private func pass(_ conv: Conv2D, _ x: Tensor, _ dy: Tensor, direct: Bool, workers: Int = 2) throws -> ([Float], [Float], [Float]) {
        let twin = Conv2D(name: conv.name, inChannels: conv.inChannels, outChannels: conv.outChannels, kernel: conv.kernel,
                          stride: conv.stride, padding: conv.padding, engine: Self.engine(direct: direct, workers: workers))
        twin.weight.value.data.update(from: conv.weight.value.data, count: conv.weight.value.count)
        let y = try twin.forward(x, mode: .train).array
        let dx = try twin.backward(dy).array
        return (y, dx, twin.weight.grad.array)
    }

    private func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        var worst: Float = 0, scale: Float = 1e-6
        for i in 0..<min(a.count, b.count) { worst = max(worst, abs(a[i] - b[i])); scale = max(scale, abs(b[i])) }
        XCTAssertLessThan(worst / scale, 1e-5, "\(what): largest difference \(worst) against values up to \(scale)")
    }

    func testDirectKernelsMatchIm2colOnEveryWidth() throws {
        var rng = SeededRNG(seed: 11)
        // (cin, cout, h, w, stride): widths below, at and across the vector width, odd sizes, WRN's planes
        for (cin, cout, h, w, stride) in [(4, 4, 5, 5, 1), (3, 8, 7, 7, 1), (1, 16, 28, 28, 1), (16, 16, 32, 32, 1), (8, 4, 6, 13, 1),
                                          (16, 32, 14, 14, 1), (32, 32, 8, 8, 1), (4, 12, 1, 9, 1), (4, 4, 9, 1, 1),
                                          (16, 32, 32, 32, 2), (32, 64, 14, 14, 2), (32, 64, 7, 7, 2), (3, 8, 9, 10, 2),
                                          (4, 4, 1, 17, 2), (4, 8, 2, 2, 2),
                                          // tiny maps: rows of 2 and 3 outputs in vectors of 8
                                          (4, 4, 3, 2, 1), (8, 8, 3, 3, 1)] {
            let conv = Conv2D(name: "c\(cin)x\(cout)@\(h)x\(w)s\(stride)", inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1,
                              engine: Self.engine(direct: true))
            for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() * 0.3 }
            let x = GradCheck.randomTensor([3, cin, h, w], &rng)
            let dy = GradCheck.randomTensor([3, cout, (h - 1) / stride + 1, (w - 1) / stride + 1], &rng)
            let a = try pass(conv, x, dy, direct: false)
            let b = try pass(conv, x, dy, direct: true)
            assertClose(b.0, a.0, conv.name + " output")
            assertClose(b.1, a.1, conv.name + " input gradient")
            assertClose(b.2, a.2, conv.name + " weight gradient")
        }
    }

    func testDirectKernelsAgainstFiniteDifferences() throws {
        var rng = SeededRNG(seed: 12)
        for stride in [1, 2] {
            let conv = Conv2D(name: "direct s\(stride)", inChannels: 4, outChannels: 8, kernel: 3, stride: stride, padding: 1,
                              engine: Self.engine(direct: true))
            for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() * 0.3 }
            let x = GradCheck.randomTensor([2, 4, 6, 11], &rng)
            try GradCheck.check(conv.name + " dx", target: x, forward: { try conv.forward(x, mode: .train).copy() },
                                backward: { try conv.backward($0) })
            try GradCheck.check(conv.name + " dw", target: conv.weight.value, forward: { try conv.forward(x, mode: .train).copy() },
                                backward: { dy in _ = try conv.backward(dy); return conv.weight.grad })
        }
    }

    func testDirectKernelsAreIndependentOfWorkerCount() throws {
        var rng = SeededRNG(seed: 13)
        let conv = Conv2D(name: "c", inChannels: 8, outChannels: 8, kernel: 3, stride: 1, padding: 1, engine: Self.engine(direct: true))
        for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() }
        let x = GradCheck.randomTensor([5, 8, 10, 10], &rng), dy = GradCheck.randomTensor([5, 8, 10, 10], &rng)
        let one = try pass(conv, x, dy, direct: true, workers: 1)
        let two = try pass(conv, x, dy, direct: true, workers: 2)
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
        assertClose(two.2, one.2, "weight gradient (summed in another order)")
    }
}

/// The whole WRN-16-1 on Fashion-MNIST-sized inputs: the engine with the direct kernels gives
/// the same logits, parameter gradients and input gradient as with im2col + sgemm everywhere.
final class DirectKernelNetworkTests: XCTestCase {
    func testWRN161TrainingStepIsTheSameWithDirectAndIm2colKernels() throws {
        var rng = SeededRNG(seed: 14)
        let x = GradCheck.randomTensor([6, 1, 28, 28], &rng)
        let ce = CrossEntropy()
        let labels = [0, 1, 2, 3, 4, 5]
        var names: [String] = []
        func step(direct: Bool) throws -> (logits: [Float], dx: [Float], grads: [[Float]]) {
            // the same seed: the same weights, whatever the engine
            let net = Models.wideResNet(depth: 16, widen: 1, inputChannels: 1, numClasses: 10, seed: 3,
                                        engine: Conv3x3DirectTests.engine(direct: direct))
            net.inputGradient = true
            names = net.parameters.map(\.0)
            let logits = try net.forward(x, mode: .train).array
            _ = try ce.forward(logits: net.forward(x, mode: .train), labels: labels)
            let dx = try net.backward(ce.backward(weights: [Float](repeating: 1.0 / 6, count: 6))).array
            return (logits, dx, net.parameters.map { $0.1.grad.array })
        }
        let a = try step(direct: false), b = try step(direct: true)
        func close(_ u: [Float], _ v: [Float], _ what: String) {
            var worst: Float = 0, scale: Float = 1e-6
            for i in 0..<u.count { worst = max(worst, abs(u[i] - v[i])); scale = max(scale, abs(u[i])) }
            XCTAssertLessThan(worst / scale, 1e-4, "\(what): \(worst) against values up to \(scale)")
        }
        close(a.logits, b.logits, "logits")
        close(a.dx, b.dx, "input gradient")
        for (k, name) in names.enumerated() { close(a.grads[k], b.grads[k], name) }
    }
}
