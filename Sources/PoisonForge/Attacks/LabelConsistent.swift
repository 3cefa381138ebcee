import ABLNet

/// CL, the label-consistent attack (Turner et al. 2019): target-class images are first made
/// hard to classify by an untargeted PGD attack on a clean surrogate (L-inf, `epsilon`,
/// `stepSize`, `steps`), so the victim must rely on the trigger to fit them; then a
/// checkerboard is stamped in all four corners (3x3 on 32x32 RGB images in the paper; other
/// images get `referencePatchSize`). Labels are unchanged (clean-label). At test
/// time only the corner trigger is applied.
///
/// The adversarial perturbation is kept within the budget after rounding to pixel levels:
/// every changed pixel outside the corners differs from the original by at most
/// floor(epsilon x 255) levels.
public struct LabelConsistent: Attack {
    public let kind = "cl"
    public let displayName = "CL (label-consistent)"
    public let labelKind = LabelKind.clean
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let rateBase: RateBase
    public let needsSurrogate = true
    public let epsilon: Float
    public let stepSize: Float
    public let steps: Int
    /// Side of each corner checkerboard.
    public let patchSize: Int
    /// The four corner patches.
    public let corners: [BadNets]

    public init(target: Int, rate: Double, rateBase: RateBase, epsilon: Float, stepSize: Float,
                steps: Int, patchSize: Int) {
        self.target = target
        self.rate = rate
        self.rateBase = rateBase
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.steps = steps
        self.patchSize = patchSize
        let pattern = BadNets.pattern(named: "checkerboard", size: patchSize)!
        corners = BadNets.Corner.allCases.map { BadNets(target: target, rate: rate, targetMode: .allToOne, size: patchSize, pattern: pattern, corner: $0, margin: 0) }
    }

    /// The paper's trigger carried to other images: 3x3 pixels x 3 channels (27 input values)
    /// on a 32x32 image. The side keeps the trigger's input values (every channel counted) per
    /// image pixel, side^2 x channels / (height x width) = 27 / 1024: it grows with the image,
    /// and a one-channel image, whose first layer sees a third of an RGB patch's input, gets
    /// sqrt(3) times the side (5 on 28x28 grayscale,
    /// 3 on 32x32 RGB, 6 on 64x64 RGB); at least 1, at most half the shorter side (the four
    /// corners must not overlap).
    public static func referencePatchSize(height: Int, width: Int, channels: Int) -> Int {
        let side = 3 * (Double(height * width) / 1024 * 3 / Double(max(1, channels))).squareRoot()
        return min(max(1, Int(side.rounded())), max(1, min(height, width) / 2))
    }

    /// The budget in pixel levels.
    public var budgetLevels: Int { Int((epsilon * 255 + 1e-4).rounded(.down)) }

    /// Stamps the four corner checkerboards.
    public func applyCorners(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int) {
        for c in corners { c.applyTrigger(image, height: height, width: width, channels: channels, index: index) }
    }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        let net = try context.requireSurrogate(displayName)
        let chosen = try choosePoisoned(train, classCount: context.classCount, seed: context.seed)
        var out = train
        out.poison = PoisonInfo.clean(labels: train.labels)
        let size = train.sampleSize, budget = budgetLevels
        var hardBefore = 0, hardAfter = 0
        context.log("CL: PGD (eps \(budget)/255, \(steps) steps) on \(chosen.count) target-class images")
        let share = ChunkShare(chosen, chunk: 128, group: context.group)
        for (c, idx) in share.chunks.enumerated() where share.owns(c) {
            let x0 = SurrogateOps.tensor(train, idx), x = x0.copy()
            let labels = idx.map { train.labels[$0] }
            hardBefore += zip(try SurrogateOps.predict(net, x0), labels).filter { $0 != $1 }.count
            let weights = [Float](repeating: 1, count: idx.count)
            for _ in 0..<steps {
                let (g, _) = try SurrogateOps.lossGradient(net, x, labels: labels, weights: weights)
                // Ascend the loss of the true label, then project onto the L-inf ball and [0, 1].
                SurrogateOps.signStep(x, from: x0, gradient: g, step: stepSize, epsilon: epsilon, direction: 1)
            }
            hardAfter += zip(try SurrogateOps.predict(net, x), labels).filter { $0 != $1 }.count
            out.pixels.withUnsafeMutableBufferPointer { px in
                train.pixels.withUnsafeBufferPointer { src in
                    for (k, i) in idx.enumerated() {
                        let dst = px.baseAddress! + i * size
                        SurrogateOps.store(x, k, into: dst, within: budget, of: src.baseAddress! + i * size)
                        applyCorners(dst, height: train.height, width: train.width, channels: train.channels, index: i)
                    }
                }
            }
        }
        share.gather(&out.pixels, rowSize: size)
        let hard = share.total([Double(hardBefore), Double(hardAfter)])
        (hardBefore, hardAfter) = (Int(hard[0]), Int(hard[1]))
        markPoisoned(&out, chosen, classCount: context.classCount)
        return PoisonedData(train: out, triggeredTest: stampTriggered(test, classCount: context.classCount, trigger: applyCorners), details: [
            "surrogate_misclassified_before": .number(Double(hardBefore) / Double(max(1, chosen.count))),
            "surrogate_misclassified_after": .number(Double(hardAfter) / Double(max(1, chosen.count))),
            "budget_levels": .number(Double(budget)),
            "patch_size": .number(Double(patchSize)),
        ])
    }
}
