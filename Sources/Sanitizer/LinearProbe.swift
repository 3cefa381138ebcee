import ABLNet
import Datasets

/// The transfer-learning victim: a fresh linear head trained on the frozen penultimate features
/// of a pretrained network, here the attack's surrogate. This is the threat model the
/// hidden-trigger attacks (FC) were designed for (Saha et al. 2020 fine-tune only the last
/// layer of a network whose features the attacker knows), unlike ABL's victim, which trains
/// every layer from scratch.
///
/// The features are computed once (eval mode, no augmentation); the head is then trained with
/// SGD on those fixed vectors, so a probe of 60000 images costs one forward pass over them plus
/// a few seconds.
public enum LinearProbe {
    /// Hyper-parameters of the head's training.
    public struct Settings: Sendable, Equatable {
        public var epochs = 10
        public var lr: Float = 0.1
        public var lrDrop = 6
        public var batchSize = 128
        public var momentum: Float = 0.9
        public var weightDecay: Float = 1e-4
        public init() {}
    }

    /// Penultimate features (N x F, row-major) of every image of a split, in batches of 256;
    /// over several ranks each runs a contiguous share of the batches, and the rows are gathered.
    public static func features(_ net: Network, _ split: DatasetSplit, group: any Collective = SingleProcess()) throws -> (values: [Float], width: Int) {
        var out: [Float] = []
        var width = 0
        let batches = group.shard((split.count + 255) / 256)
        let first = min(batches.lowerBound * 256, split.count), last = min(batches.upperBound * 256, split.count)
        for start in stride(from: first, to: last, by: 256) {
            let x = Tensor(shape: [0])
            var rng = SeededRNG(seed: 0) // unused: no augmentation
            split.pixels.withUnsafeBufferPointer { px in
                Batcher.fill(x, pixels: px.baseAddress!, height: split.height, width: split.width, channels: split.channels,
                             indices: (start..<min(start + 256, last)).map { $0 }[...], rng: &rng)
            }
            _ = try net.forward(x, mode: .eval)
            guard let f = net.features, f.shape.count == 2 else {
                throw ABLNetError.invalidArgument("linear probe: \(net.architecture) exposes no pooled penultimate features")
            }
            width = f.shape[1]
            out.append(contentsOf: f.buffer)
        }
        guard group.isDistributed else { return (out, width) }
        // a rank without a share learns the width from the others
        var w = [Double(width), first < last ? 1 : 0]
        group.sum(&w)
        width = Int(w[0] / max(w[1], 1))
        var all = [Float](repeating: 0, count: split.count * width)
        all.replaceSubrange(first * width ..< last * width, with: out)
        group.sum(&all)
        return (all, width)
    }

    /// A head (F -> classes, zero-initialised) trained on `features` with `labels`; seeded shuffling.
    public static func train(features: [Float], width: Int, labels: [Int], classes: Int, settings: Settings,
                             seed: UInt64) throws -> Linear {
        let n = labels.count
        guard n > 0, features.count == n * width else {
            throw ABLNetError.invalidArgument("linear probe: \(features.count) feature values for \(n) labels of width \(width)")
        }
        let head = Linear(name: "probe", inFeatures: width, outFeatures: classes)
        let sgd = SGD(parameters: [head.weight, head.bias], lr: settings.lr, momentum: settings.momentum,
                      nesterov: true, weightDecay: settings.weightDecay)
        let ce = CrossEntropy()
        let x = Tensor(shape: [0])
        var rng = SeededRNG(seed: seed)
        for epoch in 0..<settings.epochs {
            sgd.lr = settings.lrDrop > 0 && epoch >= settings.lrDrop ? settings.lr * 0.1 : settings.lr
            let order = rng.permutation(n)
            for start in stride(from: 0, to: n, by: settings.batchSize) {
                let idx = order[start..<min(start + settings.batchSize, n)]
                x.reshape(to: [idx.count, width])
                for (r, i) in idx.enumerated() {
                    features.withUnsafeBufferPointer { (x.data + r * width).update(from: $0.baseAddress! + i * width, count: width) }
                }
                let logits = try head.forward(x, mode: .train)
                _ = try ce.forward(logits: logits, labels: idx.map { labels[$0] }, context: "linear probe")
                // the mean cross-entropy of the batch: w_i = 1/B
                _ = try head.backward(ce.backward(weights: [Float](repeating: 1 / Float(idx.count), count: idx.count)))
                sgd.step()
            }
        }
        return head
    }

    /// The head's predicted class for every row of `features`.
    public static func predict(_ head: Linear, features: [Float], width: Int) throws -> [Int] {
        let n = features.count / max(width, 1)
        guard n > 0 else { return [] }
        let x = Tensor(shape: [n, width], values: features)
        return try head.forward(x, mode: .eval).rowArgmax()
    }

    /// How far the trigger moves an image in feature space, against how spread out the classes
    /// are: the mean distance from a triggered image's features to its clean original's, and
    /// the mean distance from a clean image's features to its class centroid. A trigger whose
    /// shift is small beside the spread is one these features barely see.
    public static func triggerShift(clean: [Float], labels: [Int], triggered: [Float], originals: [Int], width: Int,
                                    classes: Int) -> (shift: Double, spread: Double) {
        var centroid = [Double](repeating: 0, count: classes * width), count = [Int](repeating: 0, count: classes)
        for (i, y) in labels.enumerated() {
            count[y] += 1
            for d in 0..<width { centroid[y * width + d] += Double(clean[i * width + d]) }
        }
        for y in 0..<classes where count[y] > 0 { for d in 0..<width { centroid[y * width + d] /= Double(count[y]) } }
        func distance(_ a: (Int) -> Double, _ b: (Int) -> Double) -> Double {
            var s = 0.0
            for d in 0..<width { let v = a(d) - b(d); s += v * v }
            return s.squareRoot()
        }
        var spread = 0.0
        for (i, y) in labels.enumerated() { spread += distance({ Double(clean[i * width + $0]) }, { centroid[y * width + $0] }) }
        var shift = 0.0
        for (k, o) in originals.enumerated() { shift += distance({ Double(triggered[k * width + $0]) }, { Double(clean[o * width + $0]) }) }
        return (originals.isEmpty ? 0 : shift / Double(originals.count), labels.isEmpty ? 0 : spread / Double(labels.count))
    }
}
