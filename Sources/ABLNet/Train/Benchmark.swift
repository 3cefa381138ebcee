import Foundation

/// Training and evaluation throughput of a network on random data, for `abl bench`.
public enum Benchmark {
    public struct Result: Sendable {
        public var model: String
        public var batch: Int
        public var input: String
        public var trainImagesPerSecond: Double
        public var evalImagesPerSecond: Double
        public var peakRSSMegabytes: Double
        public var threads: Int
        public var coreName: String
        /// The kernels each convolution ran, in forward order.
        public var layerPaths: [LayerPath]
    }

    /// Which kernels one convolution ran (`Conv2D.kernelPaths`).
    public struct LayerPath: Sendable {
        public var name: String
        public var shape: String
        public var forward: String
        public var weightGradient: String
        public var inputGradient: String
    }

    /// Peak resident set size of this process so far, in MB (getrusage: kilobytes on Linux).
    public static func peakRSSMegabytes() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }

    /// Times `steps` training steps (forward, cross-entropy, backward, SGD) and `steps` eval
    /// forwards after `warmup` untimed ones; reports the median-free mean over the timed steps.
    public static func run(architecture: Architecture, channels: Int, size: Int, batch: Int, steps: Int, warmup: Int = 2,
                           classes: Int = 10, engine: EngineSettings) throws -> Result {
        let net = architecture.build(inputChannels: channels, numClasses: classes, seed: 0, engine: engine)
        let sgd = SGD(parameters: net.parameters.map(\.1), lr: 0.01)
        let ce = CrossEntropy()
        var rng = SeededRNG(seed: 1)
        let pixels = (0..<(batch * size * size * channels)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let labels = (0..<batch).map { $0 % classes }
        let x = Tensor(shape: [0])
        let weights = [Float](repeating: 1 / Float(batch), count: batch)
        let indices = Array(0..<batch)
        func trainStep() throws {
            pixels.withUnsafeBufferPointer {
                Batcher.fill(x, pixels: $0.baseAddress!, height: size, width: size, channels: channels, indices: indices[...], aug: .none, rng: &rng)
            }
            let logits = try net.forward(x, mode: .train)
            _ = try ce.forward(logits: logits, labels: labels)
            try net.backward(ce.backward(weights: weights))
            sgd.step()
        }
        for _ in 0..<warmup { try trainStep() }
        var t0 = Date()
        for _ in 0..<steps { try trainStep() }
        let train = Double(steps * batch) / Date().timeIntervalSince(t0)
        for _ in 0..<warmup { _ = try net.forward(x, mode: .eval) }
        t0 = Date()
        for _ in 0..<steps {
            pixels.withUnsafeBufferPointer {
                Batcher.fill(x, pixels: $0.baseAddress!, height: size, width: size, channels: channels, indices: indices[...], aug: .none, rng: &rng)
            }
            _ = try net.forward(x, mode: .eval)
        }
        let eval = Double(steps * batch) / Date().timeIntervalSince(t0)
        return Result(model: net.architecture, batch: batch, input: "\(channels)x\(size)x\(size)", trainImagesPerSecond: train,
                      evalImagesPerSecond: eval, peakRSSMegabytes: peakRSSMegabytes(), threads: engine.workers, coreName: BLAS.coreName,
                      layerPaths: net.convolutions.map { c in
                          let p = c.kernelPaths
                          return LayerPath(name: c.name, shape: "\(c.kernel)x\(c.kernel) s\(c.stride) \(c.inChannels)->\(c.outChannels)",
                                           forward: p.forward, weightGradient: p.weightGradient, inputGradient: p.inputGradient)
                      })
    }
}
