import Foundation

/// Per-layer timing for `abl bench --layers`: each distinct 3x3 convolution and BatchNorm shape
/// of a network, alone, on random data, in milliseconds per call.
extension Benchmark {
    public enum LayerKind: String, Sendable {
        case conv3x3 = "conv3x3"
        case batchNorm = "batchnorm"
    }

    /// One distinct layer shape and its times (median of the timed calls, in ms).
    public struct LayerTiming: Sendable {
        public var kind: LayerKind
        public var batch, inChannels, outChannels, height, width, stride: Int
        /// Layers of this shape in the network.
        public var count: Int
        /// The kernels (`Conv2D.kernelPaths`: forward / weight gradient / input gradient), or
        /// `fused relu` / `plain` for BatchNorm.
        public var path: String
        public var forwardMs: Double
        /// Convolution: backward with the weight gradient only. BatchNorm: the whole backward.
        public var weightGradientMs: Double
        /// Convolution: backward with both gradients minus backward with the weight gradient
        /// only (the two timed call by call in alternation); nil where the network does not
        /// compute it (the first layer). BatchNorm: nil.
        public var inputGradientMs: Double?
        /// Convolution: backward with both gradients (nil where the network computes no dx).
        public var backwardMs: Double?

        public var shape: String {
            kind == .conv3x3 ? "\(inChannels)->\(outChannels) \(height)x\(width) s\(stride)" : "\(inChannels) \(height)x\(width)"
        }
    }

    /// The median time of `calls` calls of `body` after `warmup` untimed ones, in ms.
    static func medianMilliseconds(calls: Int, warmup: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<calls {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        return median(times)
    }

    static func median(_ values: [Double]) -> Double {
        let v = values.sorted(), n = v.count
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
    }

    static func randomTensor(_ shape: [Int], _ rng: inout SeededRNG) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.unitFloat() * 2 - 1 }
        return t
    }

    /// Times every distinct 3x3 convolution (forward, weight gradient, input gradient) and
    /// BatchNorm (forward, backward) shape of `architecture` at this input, each alone on random
    /// data, with `engine`. The shapes come from one training forward.
    public static func layers(architecture: Architecture, channels: Int, size: Int, batch: Int, calls: Int = 9, warmup: Int = 2,
                              classes: Int = 10, engine: EngineSettings) throws -> [LayerTiming] {
        let net = architecture.build(inputChannels: channels, numClasses: classes, seed: 0, engine: engine)
        var rng = SeededRNG(seed: 1)
        _ = try net.forward(randomTensor([batch, channels, size, size], &rng), mode: .train)
        var out: [LayerTiming] = []
        for c in net.convolutions where c.kernel == 3 {
            guard let s = c.lastInputShape else { continue }
            if let i = out.firstIndex(where: { $0.kind == .conv3x3 && $0.inChannels == c.inChannels && $0.outChannels == c.outChannels
                && $0.height == s[2] && $0.width == s[3] && $0.stride == c.stride }) {
                out[i].count += 1
                continue
            }
            let layer = Conv2D(name: c.name, inChannels: c.inChannels, outChannels: c.outChannels, kernel: 3, stride: c.stride, padding: c.padding, engine: engine)
            for i in 0..<layer.weight.value.count { layer.weight.value.data[i] = (rng.unitFloat() * 2 - 1) * 0.1 }
            layer.computeInputGradient = c.computeInputGradient
            let x = randomTensor(s, &rng)
            let y = try layer.forward(x, mode: .train)
            let dy = randomTensor(y.shape, &rng)
            let p = layer.kernelPaths
            let fwd = try medianMilliseconds(calls: calls, warmup: warmup) { _ = try layer.forward(x, mode: .train) }
            // dW alone and dW + dx, call by call in alternation, so that both medians see the same load
            var dw = 0.0, both: Double?
            if c.computeInputGradient {
                var alone: [Double] = [], full: [Double] = []
                for k in -warmup..<calls {
                    for wantDx in [false, true] {
                        layer.computeInputGradient = wantDx
                        let t = try medianMilliseconds(calls: 1, warmup: 0) { _ = try layer.backward(dy) }
                        if k >= 0 { if wantDx { full.append(t) } else { alone.append(t) } }
                    }
                }
                dw = median(alone)
                both = median(full)
            } else {
                dw = try medianMilliseconds(calls: calls, warmup: warmup) { _ = try layer.backward(dy) }
            }
            let dx = both.map { $0 - dw }
            out.append(LayerTiming(kind: .conv3x3, batch: batch, inChannels: c.inChannels, outChannels: c.outChannels, height: s[2], width: s[3],
                                   stride: c.stride, count: 1, path: "\(p.forward)/\(p.weightGradient)/\(p.inputGradient)",
                                   forwardMs: fwd, weightGradientMs: dw, inputGradientMs: dx, backwardMs: both))
        }
        for (_, bn) in net.batchNorms {
            guard let s = bn.lastInputShape else { continue }
            let path = bn.relu ? "fused relu" : "plain"
            if let i = out.firstIndex(where: { $0.kind == .batchNorm && $0.inChannels == bn.channels && $0.height == s[2] && $0.width == s[3]
                && $0.path == path }) {
                out[i].count += 1
                continue
            }
            let layer = BatchNorm2D(name: bn.name, channels: bn.channels, relu: bn.relu, engine: engine)
            let x = randomTensor(s, &rng), dy = randomTensor(s, &rng)
            _ = try layer.forward(x, mode: .train)
            let fwd = try medianMilliseconds(calls: calls, warmup: warmup) { _ = try layer.forward(x, mode: .train) }
            let bwd = try medianMilliseconds(calls: calls, warmup: warmup) { _ = try layer.backward(dy) }
            out.append(LayerTiming(kind: .batchNorm, batch: batch, inChannels: bn.channels, outChannels: bn.channels, height: s[2], width: s[3],
                                   stride: 1, count: 1, path: path, forwardMs: fwd, weightGradientMs: bwd, inputGradientMs: nil, backwardMs: nil))
        }
        return out
    }
}
