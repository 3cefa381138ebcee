import XCTest
@testable import ABLNet

final class LayerGradientTests: XCTestCase {

    func checkLayer(_ name: String, _ layer: Layer, input shape: [Int], mode: Mode = .train, params: [Parameter] = []) throws {
        var rng = SeededRNG(seed: 1, stream: name)
        let x = GradCheck.randomTensor(shape, &rng)
        try GradCheck.check(name + " dx", target: x, forward: { try layer.forward(x, mode: mode).copy() },
                            backward: { try layer.backward($0) })
        for (k, p) in params.enumerated() {
            try GradCheck.check(name + " dparam\(k)", target: p.value, forward: { try layer.forward(x, mode: mode).copy() },
                                backward: { dy in _ = try layer.backward(dy); return p.grad })
        }
    }

    func testConv2DGradients() throws {
        var rng = SeededRNG(seed: 3)
        for (k, s, p, bias) in [(3, 1, 1, false), (3, 2, 1, true), (1, 2, 0, false), (1, 1, 0, true), (5, 1, 2, false)] {
            let conv = Conv2D(name: "conv k\(k)s\(s)p\(p)", inChannels: 3, outChannels: 4, kernel: k, stride: s, padding: p, bias: bias, engine: .tests)
            for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() * 0.3 }
            try checkLayer(conv.name, conv, input: [3, 3, 7, 6], params: [conv.weight] + (conv.bias.map { [$0] } ?? []))
        }
    }

    func testConv2DIsIndependentOfWorkerCount() throws {
        var rng = SeededRNG(seed: 4)
        let conv = Conv2D(name: "c", inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, engine: EngineSettings(workers: 1))
        for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() }
        let twin = Conv2D(name: "c", inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, engine: EngineSettings(workers: 2))
        twin.weight.value.data.update(from: conv.weight.value.data, count: conv.weight.value.count)
        let x = GradCheck.randomTensor([5, 2, 6, 6], &rng)
        let y1 = try conv.forward(x, mode: .train).array
        let y2 = try twin.forward(x, mode: .train).array
        XCTAssertEqual(y1, y2)
    }

    func testConv2DMatchesADirectConvolution() throws {
        var rng = SeededRNG(seed: 5)
        let conv = Conv2D(name: "c", inChannels: 2, outChannels: 2, kernel: 3, stride: 2, padding: 1, bias: true, engine: .tests)
        for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() }
        conv.bias!.value.data[1] = 0.5
        let x = GradCheck.randomTensor([1, 2, 5, 5], &rng)
        let y = try conv.forward(x, mode: .eval)
        XCTAssertEqual(y.shape, [1, 2, 3, 3])
        for o in 0..<2 { for oy in 0..<3 { for ox in 0..<3 {
            var s: Float = o == 1 ? 0.5 : 0
            for c in 0..<2 { for ki in 0..<3 { for kj in 0..<3 {
                let iy = oy * 2 - 1 + ki, ix = ox * 2 - 1 + kj
                if iy >= 0 && iy < 5 && ix >= 0 && ix < 5 { s += conv.weight.value.data[((o * 2 + c) * 3 + ki) * 3 + kj] * x.data[(c * 5 + iy) * 5 + ix] }
            } } }
            XCTAssertEqual(y.data[(o * 3 + oy) * 3 + ox], s, accuracy: 1e-4)
        } } }
    }

    func testBatchNormGradientsInTrainEvalAndFrozenModes() throws {
        var rng = SeededRNG(seed: 6)
        let bn = BatchNorm2D(name: "bn", channels: 3, engine: .tests)
        for i in 0..<3 { bn.weight.value.data[i] = 1 + rng.normal() * 0.3; bn.bias.value.data[i] = rng.normal() * 0.3 }
        try checkLayer("bn train", bn, input: [4, 3, 5, 5], mode: .train, params: [bn.weight, bn.bias])
        for i in 0..<3 { bn.runningMean.data[i] = rng.normal() * 0.2; bn.runningVar.data[i] = 0.5 + rng.unitFloat() }
        try checkLayer("bn eval", bn, input: [4, 3, 5, 5], mode: .eval, params: [bn.weight, bn.bias])
        bn.frozen = true
        let before = bn.runningMean.array
        try checkLayer("bn frozen", bn, input: [4, 3, 5, 5], mode: .train, params: [bn.weight])
        XCTAssertEqual(bn.runningMean.array, before, "frozen statistics must not move")
    }

    func testFusedBatchNormReLUEqualsBatchNormThenReLU() throws {
        var rng = SeededRNG(seed: 16)
        let fused = BatchNorm2D(name: "fused", channels: 3, relu: true, engine: .tests)
        let plain = BatchNorm2D(name: "plain", channels: 3, engine: .tests), relu = ReLU(engine: .tests)
        for i in 0..<3 {
            let (g, b) = (1 + rng.normal() * 0.3, rng.normal() * 0.3)
            fused.weight.value.data[i] = g; plain.weight.value.data[i] = g
            fused.bias.value.data[i] = b; plain.bias.value.data[i] = b
        }
        // 5x7 planes: the vector loop and its scalar tail both see masked entries
        let x = GradCheck.randomTensor([4, 3, 5, 7], &rng), dy = GradCheck.randomTensor([4, 3, 5, 7], &rng)
        for (mode, frozen) in [(Mode.train, false), (.eval, false), (.train, true)] {
            fused.frozen = frozen; plain.frozen = frozen
            let yf = try fused.forward(x, mode: mode).array
            let yp = try relu.forward(try plain.forward(x, mode: mode), mode: mode).array
            XCTAssertEqual(yf, yp, "forward, \(mode) frozen \(frozen)")
            XCTAssertTrue(yf.contains(0) && yf.contains { $0 > 0 }, "the test needs both sides of the kink")
            let dxf = try fused.backward(dy).array
            let dxp = try plain.backward(try relu.backward(dy)).array
            for i in 0..<dxf.count { XCTAssertEqual(dxf[i], dxp[i], accuracy: 1e-5, "dx[\(i)], \(mode) frozen \(frozen)") }
            for i in 0..<3 {
                XCTAssertEqual(fused.weight.grad.data[i], plain.weight.grad.data[i], accuracy: 1e-4)
                XCTAssertEqual(fused.bias.grad.data[i], plain.bias.grad.data[i], accuracy: 1e-4)
            }
        }
    }

    func testBatchNormMatchesPyTorchStatistics() throws {
        let bn = BatchNorm2D(name: "bn", channels: 1, engine: .tests)
        let x = Tensor(shape: [2, 1, 1, 2], values: [1, 2, 3, 4])
        let y = try bn.forward(x, mode: .train)
        // mean 2.5, biased var 1.25 -> y = (x - 2.5) / sqrt(1.25 + 1e-5)
        XCTAssertEqual(y.data[0], Float(-1.5 / (1.25 + 1e-5).squareRoot()), accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.data[0], 0.25, accuracy: 1e-6)               // 0.9*0 + 0.1*2.5
        XCTAssertEqual(bn.runningVar.data[0], 0.9 + 0.1 * (5.0 / 3.0), accuracy: 1e-6) // unbiased var 5/3
        XCTAssertEqual(bn.numBatchesTracked, 1)
    }

    func testElementwisePoolingAndLinearGradients() throws {
        try checkLayer("relu", ReLU(engine: .tests), input: [2, 3, 4, 4])
        try checkLayer("avgpool", AvgPool2D(kernel: 2), input: [2, 3, 4, 6])
        try checkLayer("maxpool", MaxPool2D(kernel: 3, stride: 2, padding: 1), input: [2, 2, 7, 7])
        try checkLayer("gap", GlobalAvgPool(), input: [2, 3, 5, 4])
        var rng = SeededRNG(seed: 7)
        let fc = Linear(name: "fc", inFeatures: 6, outFeatures: 4)
        for i in 0..<24 { fc.weight.value.data[i] = rng.normal() }
        let x = GradCheck.randomTensor([3, 6], &rng)
        try GradCheck.check("linear dx", target: x, forward: { try fc.forward(x, mode: .train).copy() }, backward: { try fc.backward($0) })
        try GradCheck.check("linear dW", target: fc.weight.value, forward: { try fc.forward(x, mode: .train).copy() }, backward: { _ = try fc.backward($0); return fc.weight.grad })
        try GradCheck.check("linear db", target: fc.bias.value, forward: { try fc.forward(x, mode: .train).copy() }, backward: { _ = try fc.backward($0); return fc.bias.grad })
    }

    func testDropoutGradientWithAFixedMask() throws {
        let d = Dropout(p: 0.3, seed: 1)
        var rng = SeededRNG(seed: 8)
        let x = GradCheck.randomTensor([2, 2, 3, 3], &rng)
        let saved = d.rng
        try GradCheck.check("dropout", target: x, forward: { d.rng = saved; return try d.forward(x, mode: .train).copy() }, backward: { try d.backward($0) })
        XCTAssertEqual(try d.forward(x, mode: .eval).array, x.array)
    }

    func testCrossEntropyWithPerSampleWeights() throws {
        var rng = SeededRNG(seed: 9)
        let logits = GradCheck.randomTensor([4, 5], &rng, scale: 2)
        let labels = [0, 3, 4, 1], weights: [Float] = [0.25, -0.25, 0.5, 0]
        let ce = CrossEntropy()
        // L = Σ w_i loss_i: the check's projection r is replaced by the weights through a 1-element output.
        let objective = Tensor(shape: [1])
        try GradCheck.check("ce weighted", target: logits, forward: {
            let l = try ce.forward(logits: logits, labels: labels)
            objective.data[0] = zip(l, weights).map { $0 * $1 }.reduce(0, +)
            return objective.copy()
        }, backward: { dy in
            _ = try ce.forward(logits: logits, labels: labels)
            let g = ce.backward(weights: weights.map { $0 * dy.data[0] })
            return g
        })
        let l = try ce.forward(logits: Tensor(shape: [1, 2], values: [0, 0]), labels: [1])
        XCTAssertEqual(l[0], logf(2), accuracy: 1e-6)
    }

    func testCrossEntropyRejectsNaNAndBadLabels() {
        let ce = CrossEntropy()
        XCTAssertThrowsError(try ce.forward(logits: Tensor(shape: [1, 2], values: [.nan, 0]), labels: [0], context: "isolate epoch 3")) { e in
            XCTAssertTrue("\(e)".contains("isolate epoch 3") && "\(e)".contains("NaN"), "\(e)")
        }
        XCTAssertThrowsError(try ce.forward(logits: Tensor(shape: [1, 2], values: [0, 0]), labels: [2]))
    }
}

final class UniformTargetTests: XCTestCase {
    /// d/dlogits of Σ w_i * CE(softmax(z_i), uniform) = w_i * (p - 1/K), by finite differences.
    func testUniformTargetBackwardMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 12)
        let logits = GradCheck.randomTensor([3, 4], &rng, scale: 3)
        let weights: [Float] = [0.5, -1, 2], mask = [true, false, true]
        let ce = CrossEntropy(), out = Tensor(shape: [1])
        try GradCheck.check("uniform target", target: logits, step: 1e-2, forward: {
            let l = try ce.forward(logits: logits, labels: [1, 2, 3])
            var v: Float = 0
            for i in 0..<3 { v += weights[i] * (mask[i] ? ce.uniformLoss(i) : l[i]) }
            out.data[0] = v
            return out.copy()
        }, backward: { dy in
            _ = try ce.forward(logits: logits, labels: [1, 2, 3])
            return ce.backward(weights: weights.map { $0 * dy.data[0] }, towardUniform: mask)
        })
    }
}

final class ComplementTargetTests: XCTestCase {
    /// d/dlogits of Σ w_i * loss_i(target_i) for a mix of label, uniform and not-label targets,
    /// by finite differences; the not-label loss is -log(1 - p_y).
    func testMixedTargetsBackwardMatchesFiniteDifferences() throws {
        var rng = SeededRNG(seed: 13)
        let logits = GradCheck.randomTensor([4, 5], &rng, scale: 3)
        let weights: [Float] = [0.5, -1, 2, 1.5]
        let targets: [CrossEntropy.Target] = [.notLabel, .label, .uniform, .notLabel]
        let ce = CrossEntropy(), out = Tensor(shape: [1])
        try GradCheck.check("mixed targets", target: logits, step: 1e-2, forward: {
            let l = try ce.forward(logits: logits, labels: [1, 2, 3, 4])
            var v: Float = 0
            for i in 0..<4 {
                switch targets[i] {
                case .label: v += weights[i] * l[i]
                case .uniform: v += weights[i] * ce.uniformLoss(i)
                case .notLabel: v += weights[i] * ce.complementLoss(i)
                }
            }
            out.data[0] = v
            return out.copy()
        }, backward: { dy in
            _ = try ce.forward(logits: logits, labels: [1, 2, 3, 4])
            return ce.backward(weights: weights.map { $0 * dy.data[0] }, targets: targets)
        })
    }

    /// A confidently fitted sample (p_y ~ 1) still gets a gradient of about 1 on its label's logit.
    func testNotLabelGradientDoesNotVanishOnConfidentSamples() throws {
        let ce = CrossEntropy()
        _ = try ce.forward(logits: Tensor(shape: [1, 3], values: [20, 0, 0]), labels: [0])
        let d = ce.backward(weights: [1], targets: [.notLabel])
        XCTAssertEqual(d.data[0], 1, accuracy: 1e-4)
        XCTAssertEqual(d.data[1], -0.5, accuracy: 1e-4)
        XCTAssertEqual(ce.complementLoss(0), 20 - logf(2), accuracy: 1e-2)
    }
}
