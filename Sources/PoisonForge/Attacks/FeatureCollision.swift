import ABLNet

/// FC, feature collision in the hidden-trigger style (Saha et al. 2020): target-class images
/// are perturbed within an L-inf budget so that their surrogate features move onto those of
/// trigger-patched images of other classes; labels unchanged (clean-label). The victim then
/// associates the patch's features with the target. At test time the patch is stamped on
/// non-target images. Each poisoned image is paired with one patched non-target training
/// image (seeded); the perturbation is PGD on `||f(x + delta) - f(patch(x_s))||^2`.
public struct FeatureCollision: Attack {
    public let kind = "fc"
    public let displayName = "FC (feature collision, hidden-trigger style)"
    public let labelKind = LabelKind.clean
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let rateBase: RateBase
    public let needsSurrogate = true
    public let epsilon: Float
    public let stepSize: Float
    public let steps: Int
    public let patch: BadNets

    public init(target: Int, rate: Double, rateBase: RateBase, epsilon: Float, stepSize: Float,
                steps: Int, patch: BadNets) {
        self.target = target
        self.rate = rate
        self.rateBase = rateBase
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.steps = steps
        self.patch = patch
    }

    public var budgetLevels: Int { Int((epsilon * 255 + 1e-4).rounded(.down)) }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        let net = try context.requireSurrogate(displayName)
        let chosen = try choosePoisoned(train, classCount: context.classCount, seed: context.seed)
        let sources = train.labels.indices.filter { train.labels[$0] != target }
        guard !sources.isEmpty else { throw DatasetError.invalid("FC needs training images outside the target class") }
        var rng = SeededRNG(seed: context.seed, stream: "fc-pairs")
        var out = train
        out.poison = PoisonInfo.clean(labels: train.labels)
        let size = train.sampleSize, budget = budgetLevels
        var before = 0.0, after = 0.0
        context.log("FC: colliding \(chosen.count) target-class images with patched source images (eps \(budget)/255, \(steps) steps)")
        let share = ChunkShare(chosen, chunk: 128, group: context.group)
        for (c, idx) in share.chunks.enumerated() {
            // every rank draws every chunk's sources, so the draws match one process's
            let drawn = idx.map { _ in sources[rng.int(below: sources.count)] }
            guard share.owns(c) else { continue }
            var src = train.subset(drawn)
            let n = src.count, ss = src.sampleSize
            src.pixels.withUnsafeMutableBufferPointer { px in
                for k in 0..<n { patch.applyTrigger(px.baseAddress! + k * ss, height: src.height, width: src.width, channels: src.channels, index: k) }
            }
            let goal = try SurrogateOps.features(net, SurrogateOps.tensor(src, Array(0..<n)))
            let x0 = SurrogateOps.tensor(train, idx), x = x0.copy()
            var last = 0.0
            for step in 0...steps {
                let (g, value) = try SurrogateOps.featureGradient(net, x) { f, df in
                    var total = 0.0
                    for k in 0..<f.count {
                        let d = f.data[k] - goal.data[k]
                        total += Double(d * d)
                        df.data[k] = 2 * d
                    }
                    return total / Double(f.shape[0])
                }
                if step == 0 { before += value * Double(n) }
                last = value
                if step == steps { break }
                SurrogateOps.signStep(x, from: x0, gradient: g, step: stepSize, epsilon: epsilon, direction: -1)
            }
            after += last * Double(n)
            out.pixels.withUnsafeMutableBufferPointer { px in
                train.pixels.withUnsafeBufferPointer { orig in
                    for (k, i) in idx.enumerated() {
                        SurrogateOps.store(x, k, into: px.baseAddress! + i * size, within: budget, of: orig.baseAddress! + i * size)
                    }
                }
            }
        }
        share.gather(&out.pixels, rowSize: size)
        let distance = share.total([before, after])
        (before, after) = (distance[0], distance[1])
        markPoisoned(&out, chosen, classCount: context.classCount)
        return PoisonedData(train: out, triggeredTest: stampTriggered(test, classCount: context.classCount, trigger: patch.applyTrigger), details: [
            "feature_distance_before": .number(before / Double(max(1, chosen.count))),
            "feature_distance_after": .number(after / Double(max(1, chosen.count))),
            "budget_levels": .number(Double(budget)),
        ])
    }
}
