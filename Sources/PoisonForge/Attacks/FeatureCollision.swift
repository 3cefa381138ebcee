import ABLNet

/// FC, feature collision (after Saha et al. 2020, hidden-trigger backdoor): target-class images
/// are perturbed within an L-inf budget so that their surrogate features move onto those of
/// trigger-patched images of other classes; labels unchanged (clean-label). At test time the
/// patch is stamped on non-target images. Each poisoned image is paired with one patched
/// non-target training image (seeded); the perturbation is PGD on `||f(x + delta) - f(patch(x_s))||^2`.
///
/// `Method` says whether the patch itself appears in the poisons:
/// - `hiddenTrigger` is the paper's design: the patch reaches the victim only through the
///   surrogate's features. It needs a victim that shares those features (the paper fine-tunes
///   the last layer of a pretrained network); a network trained from scratch on the pixels has
///   nothing to learn.
/// - `inBudgetTrigger` (this project's variant, the default) spends the same L-inf budget on the
///   patch's pixels too: each patch pixel moves toward the patch's value by at most epsilon, and
///   PGD perturbs the other pixels. The poisons carry a faint copy of the test-time patch, as
///   Narcissus (Zeng et al. 2023) poisons with a bounded trigger and magnifies it at test time;
///   a from-scratch victim can learn it. The poisons stay within the budget and keep their labels.
public struct FeatureCollision: Attack {
    /// Whether the poisons carry the patch within the budget (see the type's comment).
    public enum Method: String, Sendable, CaseIterable {
        case inBudgetTrigger = "in-budget-trigger"
        case hiddenTrigger = "hidden-trigger"
    }

    public let kind = "fc"
    public var displayName: String {
        switch method {
        case .inBudgetTrigger: "FC (feature collision with an in-budget trigger)"
        case .hiddenTrigger: "FC (feature collision, hidden-trigger style)"
        }
    }
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
    public let method: Method

    public init(target: Int, rate: Double, rateBase: RateBase, epsilon: Float, stepSize: Float,
                steps: Int, patch: BadNets, method: Method) {
        self.target = target
        self.rate = rate
        self.rateBase = rateBase
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.steps = steps
        self.patch = patch
        self.method = method
    }

    /// The patch's pixels (HWC offsets) in an image of this shape: those the trigger overwrites,
    /// found as the pixels it sets to the same value in an all-black and an all-white image.
    func patchPixels(height: Int, width: Int, channels: Int) -> [Int] {
        let n = height * width * channels
        var black = [UInt8](repeating: 0, count: n), white = [UInt8](repeating: 255, count: n)
        black.withUnsafeMutableBufferPointer { patch.applyTrigger($0.baseAddress!, height: height, width: width, channels: channels, index: 0) }
        white.withUnsafeMutableBufferPointer { patch.applyTrigger($0.baseAddress!, height: height, width: width, channels: channels, index: 0) }
        return (0..<n).filter { black[$0] == white[$0] }
    }

    /// Image `x` (HWC uint8) with each of `pixels` moved toward the patch's value by at most `budget` levels.
    func faintPatch(_ x: UnsafeMutablePointer<UInt8>, pixels: [Int], height: Int, width: Int, channels: Int, budget: Int) {
        let n = height * width * channels
        var stamped = [UInt8](UnsafeBufferPointer(start: x, count: n))
        stamped.withUnsafeMutableBufferPointer { patch.applyTrigger($0.baseAddress!, height: height, width: width, channels: channels, index: 0) }
        for p in pixels {
            let o = Int(x[p])
            x[p] = UInt8(o + max(-budget, min(budget, Int(stamped[p]) - o)))
        }
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
        let trigger = patchPixels(height: train.height, width: train.width, channels: train.channels)
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
            // in-budget trigger: the patch's pixels start at their faint values and stay there
            let fixed = method == .inBudgetTrigger ? fixedValues(train, idx, pixels: trigger, budget: budget) : []
            set(x, fixed)
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
                set(x, fixed)
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
            "method": .string(method.rawValue),
            "trigger_pixels_in_poisons": .number(Double(method == .inBudgetTrigger ? trigger.count : 0)),
        ])
    }

    /// The faint patch's values of images `idx`: offsets into their (N, C, H, W) tensor, values in [0, 1].
    private func fixedValues(_ split: DatasetSplit, _ idx: [Int], pixels: [Int], budget: Int) -> [(offset: Int, value: Float)] {
        let (h, w, c, size) = (split.height, split.width, split.channels, split.sampleSize)
        var out: [(offset: Int, value: Float)] = []
        for (k, i) in idx.enumerated() {
            var img = Array(split.pixels[(i * size)..<((i + 1) * size)])
            img.withUnsafeMutableBufferPointer { faintPatch($0.baseAddress!, pixels: pixels, height: h, width: w, channels: c, budget: budget) }
            for p in pixels {
                // HWC offset p = (y * w + x) * c + ch  ->  CHW offset ch * h * w + y * w + x
                let ch = p % c, yx = p / c
                out.append((k * size + ch * h * w + yx, Float(img[p]) / 255))
            }
        }
        return out
    }

    private func set(_ x: Tensor, _ values: [(offset: Int, value: Float)]) {
        for (k, v) in values { x.data[k] = v }
    }
}
