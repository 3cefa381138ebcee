import XCTest
@testable import ABLNet

/// The kernel families of `EngineSettings.kernels` against each other: the AVX-512 forward and stride-1
/// input gradient give the same bits as the AVX2 kernels, and the AVX-512 path passes the
/// finite-difference checks on its own. Skipped where the CPU has no AVX-512.
final class KernelDispatchTests: XCTestCase {
    /// Output, input gradient and weight gradient of `conv`'s twin running `kernels`.
    private func pass(_ conv: Conv2D, _ x: Tensor, _ dy: Tensor, _ kernels: KernelSet) throws -> ([Float], [Float], [Float]) {
        let twin = Conv2D(name: conv.name, inChannels: conv.inChannels, outChannels: conv.outChannels, kernel: conv.kernel,
                          stride: conv.stride, padding: conv.padding, engine: EngineSettings(workers: 2, kernels: kernels))
        twin.weight.value.data.update(from: conv.weight.value.data, count: conv.weight.value.count)
        let y = try twin.forward(x, mode: .train).array
        let dx = try twin.backward(dy).array
        return (y, dx, twin.weight.grad.array)
    }

    func testAVX2IsSelectableEverywhereAndAVX512OnlyWhereTheCPUHasIt() {
        XCTAssertEqual(EngineSettings(kernels: .avx2).kernels, .avx2)
        XCTAssertEqual(EngineSettings(kernels: .avx512).kernels, CPUFeatures.avx512 ? .avx512 : .avx2)
        XCTAssertEqual(EngineSettings().kernels, KernelSet.best)
        XCTAssertEqual(EngineSettings(workers: 0).workers, 1)
        XCTAssertTrue(CPUFeatures.avx2, "this build assumes AVX2 and FMA")
    }

    func testEachConvolutionReportsTheKernelsItRuns() {
        let narrow = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 10, seed: 0, engine: EngineSettings(kernels: .avx2)).convolutions
        XCTAssertEqual(narrow.count, 15)
        XCTAssertTrue(narrow[0].kernelPaths == ("avx2", "avx2", "none"))
        XCTAssertTrue(narrow[1].kernelPaths == ("avx2", "avx2", "avx2"))
        XCTAssertEqual(narrow.filter { $0.kernel == 1 }.map(\.kernelPaths.forward), ["im2col+sgemm", "im2col+sgemm"])
        let convs = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 10, seed: 0, engine: EngineSettings(kernels: .avx512)).convolutions
        let wide = CPUFeatures.avx512 ? "avx512" : "avx2"
        XCTAssertTrue(convs[1].kernelPaths == (wide, wide, wide))
        var im2col = ConvSettings()
        im2col.directKernels = false
        let plain = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 10, seed: 0, engine: EngineSettings(conv: im2col)).convolutions
        XCTAssertTrue(plain[1].kernelPaths == ("im2col+sgemm", "im2col+sgemm", "im2col+sgemm"))
        XCTAssertEqual(BLAS.preferredCore, CPUFeatures.avx512 ? "SkylakeX" : CPUFeatures.avx2 ? "Haswell" : nil)
    }

    func testAVX512KernelsGiveTheSameBitsAsAVX2() throws {
        try XCTSkipUnless(CPUFeatures.avx512, "no AVX-512 on this CPU")
        var rng = SeededRNG(seed: 21)
        // (cin, cout, h, w, stride): WRN's planes, one and two 16-channel blocks, odd sizes, tiles across images
        for (cin, cout, h, w, stride) in [(1, 16, 28, 28, 1), (3, 16, 32, 32, 1), (16, 16, 28, 28, 1), (16, 32, 14, 14, 1),
                                          (32, 32, 14, 14, 1), (64, 64, 7, 7, 1), (32, 48, 8, 8, 1), (16, 16, 5, 9, 1),
                                          (16, 32, 28, 28, 2), (32, 64, 14, 14, 2), (16, 16, 3, 3, 1), (4, 16, 1, 1, 1)] {
            let conv = Conv2D(name: "c\(cin)x\(cout)@\(h)x\(w)s\(stride)", inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1,
                              engine: EngineSettings())
            for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() * 0.3 }
            let x = GradCheck.randomTensor([3, cin, h, w], &rng)
            let dy = GradCheck.randomTensor([3, cout, (h - 1) / stride + 1, (w - 1) / stride + 1], &rng)
            let a = try pass(conv, x, dy, .avx2)
            let b = try pass(conv, x, dy, .avx512)
            XCTAssertEqual(a.0, b.0, conv.name + " output")
            XCTAssertEqual(a.1, b.1, conv.name + " input gradient")
            XCTAssertEqual(a.2, b.2, conv.name + " weight gradient")
        }
    }

    func testAVX512KernelsAgainstFiniteDifferences() throws {
        try XCTSkipUnless(CPUFeatures.avx512, "no AVX-512 on this CPU")
        var rng = SeededRNG(seed: 22)
        for stride in [1, 2] {
            let conv = Conv2D(name: "avx512 s\(stride)", inChannels: 16, outChannels: 32, kernel: 3, stride: stride, padding: 1,
                              engine: EngineSettings(workers: 2, kernels: .avx512))
            for i in 0..<conv.weight.value.count { conv.weight.value.data[i] = rng.normal() * 0.1 }
            let x = GradCheck.randomTensor([2, 16, 6, 11], &rng)
            try GradCheck.check(conv.name + " dx", target: x, forward: { try conv.forward(x, mode: .train).copy() },
                                backward: { try conv.backward($0) })
            try GradCheck.check(conv.name + " dw", target: conv.weight.value, forward: { try conv.forward(x, mode: .train).copy() },
                                backward: { dy in _ = try conv.backward(dy); return conv.weight.grad })
        }
    }
}
