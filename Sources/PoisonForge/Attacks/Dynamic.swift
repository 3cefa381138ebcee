import ABLNet
import Foundation

/// Dynamic, the input-aware backdoor (Nguyen & Tran 2020), as a data-poisoning attack: a
/// pattern generator G and a mask generator M (small conv nets) produce a trigger for every
/// input, `x' = x + (G(x) - x) * M(x)`, dirty-label. They are trained against a fixed clean
/// surrogate with the input-aware objective:
///
///     CE(f(x'), target)                              the trigger works
///   + lambdaDiv * mean_i ||x_i - x_j|| / ||G(x_i) - G(x_j)||   (and the same for M)
///                                                    different inputs get different triggers
///   + lambdaNorm * max(0, mean(M(x)) - density)      the mask stays sparse (density 0.032)
///
/// with j the next image of the batch. The original trains the classifier together with the
/// generators and adds "cross" samples (an input with another input's trigger, label kept);
/// here the victim model is trained later on the poisoned data alone, and no cross samples
/// are written.
public struct Dynamic: Attack {
    public let kind = "dynamic"
    public let displayName = "Dynamic (input-aware)"
    public let labelKind = LabelKind.dirty
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let needsSurrogate = true
    public let density: Float
    public let lambdaDiversity: Float
    public let lambdaNorm: Float
    public let steps: Int
    public let batch: Int
    public let lr: Float
    public let hidden: Int

    public init(target: Int, rate: Double, density: Float, lambdaDiversity: Float, lambdaNorm: Float,
                steps: Int, batch: Int, lr: Float, hidden: Int) {
        self.target = target
        self.rate = rate
        self.density = density
        self.lambdaDiversity = lambdaDiversity
        self.lambdaNorm = lambdaNorm
        self.steps = steps
        self.batch = batch
        self.lr = lr
        self.hidden = hidden
    }

    /// The two generators and what they produce for a batch.
    final class Generators {
        let g: Sequential, m: Sequential
        let pattern = Tensor(shape: [0]), mask = Tensor(shape: [0]), mixed = Tensor(shape: [0])

        init(channels: Int, hidden: Int, seed: UInt64, engine: EngineSettings) {
            g = Sequential.convGenerator(inChannels: channels, hidden: hidden, outChannels: channels, seed: seed, engine: engine)
            m = Sequential.convGenerator(inChannels: channels, hidden: hidden, outChannels: 1, seed: seed &+ 1, engine: engine)
        }

        /// pattern = (tanh(G(x)) + 1) / 2, mask = sigmoid(M(x)), mixed = x + (pattern - x) * mask.
        func forward(_ x: Tensor, mode: Mode) throws {
            let gr = try g.forward(x, mode: mode), mr = try m.forward(x, mode: mode)
            pattern.reshape(to: gr.shape)
            mask.reshape(to: mr.shape)
            mixed.reshape(to: x.shape)
            for k in 0..<gr.count { pattern.data[k] = (tanhf(gr.data[k]) + 1) / 2 }
            for k in 0..<mr.count { mask.data[k] = 1 / (1 + expf(-mr.data[k])) }
            let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
            for i in 0..<n { for ch in 0..<c { for p in 0..<hw {
                let k = (i * c + ch) * hw + p, mv = mask.data[i * hw + p]
                mixed.data[k] = x.data[k] + (pattern.data[k] - x.data[k]) * mv
            } } }
        }
    }

    /// Adds to `grad` the gradient of `weight * mean_i din_i / dout_i`, where dout_i is the RMS
    /// distance between sample i of `t` and sample i+1 (mod N); returns the term's value.
    static func diversity(_ t: Tensor, _ x: Tensor, weight: Float, grad: Tensor) -> Double {
        let n = t.shape[0], d = t.sampleSize, dx = x.sampleSize
        guard n > 1 else { return 0 }
        var total = 0.0
        for i in 0..<n {
            let j = (i + 1) % n
            var sin: Float = 0, sout: Float = 0
            for k in 0..<dx { let v = x.data[i * dx + k] - x.data[j * dx + k]; sin += v * v }
            for k in 0..<d { let v = t.data[i * d + k] - t.data[j * d + k]; sout += v * v }
            let din = (sin / Float(dx)).squareRoot(), dout = (sout / Float(d)).squareRoot() + 1e-4
            total += Double(din / dout)
            // d(din/dout)/dt_i = -din/dout^2 * (t_i - t_j) / (d * dout); t_j gets the opposite.
            let s = weight / Float(n) * (-din / (dout * dout)) / (Float(d) * dout)
            for k in 0..<d {
                let v = s * (t.data[i * d + k] - t.data[j * d + k])
                grad.data[i * d + k] += v
                grad.data[j * d + k] -= v
            }
        }
        return total / Double(n) * Double(weight)
    }

    /// Trains the generators against the surrogate; returns them with the loss of the first
    /// and last tenth of the steps.
    func trainGenerators(_ net: Network, _ split: DatasetSplit, seed: UInt64, log: (String) -> Void) throws -> (Generators, Double, Double) {
        // the generators run as the surrogate they are trained against
        let gens = Generators(channels: split.channels, hidden: hidden, seed: seed, engine: net.engine)
        let params = (gens.g.parameters + gens.m.parameters).map(\.1)
        let sgd = SGD(parameters: params, lr: lr, momentum: 0.9, nesterov: false, weightDecay: 0)
        var rng = SeededRNG(seed: seed, stream: "dynamic-train")
        let ce = CrossEntropy()
        let dP = Tensor(shape: [0]), dM = Tensor(shape: [0])
        var losses: [Double] = []
        net.inputGradient = true
        defer { net.inputGradient = false }
        for step in 1...steps {
            let idx = (0..<min(batch, split.count)).map { _ in rng.int(below: split.count) }
            let x = SurrogateOps.tensor(split, idx)
            try gens.forward(x, mode: .train)
            let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3]
            let logits = try net.forward(gens.mixed, mode: .eval)
            let l = try ce.forward(logits: logits, labels: Array(repeating: target, count: n), context: "Dynamic generator training")
            var loss = Double(l.reduce(0, +)) / Double(n)
            let dmixed = try net.backward(ce.backward(weights: Array(repeating: 1 / Float(n), count: n)))
            dP.reshape(to: gens.pattern.shape); dM.reshape(to: gens.mask.shape)
            dM.zero()
            for i in 0..<n { for ch in 0..<c { for p in 0..<hw {
                let k = (i * c + ch) * hw + p, mv = gens.mask.data[i * hw + p]
                dP.data[k] = dmixed.data[k] * mv
                dM.data[i * hw + p] += dmixed.data[k] * (gens.pattern.data[k] - x.data[k])
            } } }
            loss += Dynamic.diversity(gens.pattern, x, weight: lambdaDiversity, grad: dP)
            loss += Dynamic.diversity(gens.mask, x, weight: lambdaDiversity, grad: dM)
            var meanMask: Float = 0
            for k in 0..<gens.mask.count { meanMask += gens.mask.data[k] }
            meanMask /= Float(gens.mask.count)
            if meanMask > density {
                loss += Double(lambdaNorm * (meanMask - density))
                let g = lambdaNorm / Float(gens.mask.count)
                for k in 0..<dM.count { dM.data[k] += g }
            }
            guard loss.isFinite else { throw AttackParameterError(.generatorLR, "the generator loss is NaN or infinite at step \(step); lower it") }
            losses.append(loss)
            // Through the output activations: tanh' = 1 - tanh^2 with tanh = 2p - 1; sigmoid' = m (1 - m).
            for k in 0..<dP.count { let t = 2 * gens.pattern.data[k] - 1; dP.data[k] *= (1 - t * t) / 2 }
            for k in 0..<dM.count { let m = gens.mask.data[k]; dM.data[k] *= m * (1 - m) }
            try gens.g.backward(dP)
            try gens.m.backward(dM)
            sgd.step()
            if step % max(1, steps / 5) == 0 { log(String(format: "Dynamic: generator step %d/%d, loss %.4f, mask density %.4f", step, steps, loss, meanMask)) }
        }
        let tenth = max(1, losses.count / 10)
        return (gens, losses.prefix(tenth).reduce(0, +) / Double(tenth), losses.suffix(tenth).reduce(0, +) / Double(tenth))
    }

    /// Replaces images `indices` of `split` by their triggered versions; returns the mean mask density.
    static func apply(_ gens: Generators, to split: inout DatasetSplit, _ indices: [Int]) throws -> Double {
        var density = 0.0
        let size = split.sampleSize
        for start in stride(from: 0, to: indices.count, by: 256) {
            let idx = Array(indices[start..<min(start + 256, indices.count)])
            let x = SurrogateOps.tensor(split, idx)
            try gens.forward(x, mode: .eval)
            for k in 0..<gens.mask.count { density += Double(gens.mask.data[k]) }
            split.pixels.withUnsafeMutableBufferPointer { px in
                for (k, i) in idx.enumerated() { SurrogateOps.store(gens.mixed, k, into: px.baseAddress! + i * size) }
            }
        }
        return density / Double(max(1, indices.count * split.height * split.width))
    }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        let net = try context.requireSurrogate(displayName)
        context.log("Dynamic: training the pattern and mask generators against the surrogate (\(steps) steps)")
        let (gens, first, last) = try trainGenerators(net, train, seed: context.seed, log: context.log)
        let chosen = try choosePoisoned(train, classCount: context.classCount, seed: context.seed)
        var out = train
        out.poison = PoisonInfo.clean(labels: train.labels)
        let trainDensity = try Dynamic.apply(gens, to: &out, chosen)
        markPoisoned(&out, chosen, classCount: context.classCount)
        var t = triggerCandidates(test, classCount: context.classCount)
        _ = try Dynamic.apply(gens, to: &t, Array(0..<t.count))
        let asr = try SurrogateOps.accuracy(net, t, limit: 1000, seed: context.seed)
        return PoisonedData(train: out, triggeredTest: t, details: [
            "generator_loss_first_last": .array([.number(first), .number(last)]),
            "mask_density": .number(trainDensity),
            "surrogate_asr": .number(asr),
        ])
    }
}
