import ABLNet

/// LBA, the latent backdoor (Yao et al. 2019), as a data-poisoning attack: a patch of
/// `patchFraction` x width in the bottom-right corner whose pixels are optimised on a clean
/// surrogate so that the penultimate features of triggered non-target images match the mean
/// features of the target class; dirty-label. The original plants the latent trigger in a
/// teacher model for transfer learning; here the victim is trained from scratch on the
/// poisoned data.
public struct LBA: Attack {
    public let kind = "lba"
    public let displayName = "LBA (latent backdoor)"
    public let labelKind = LabelKind.dirty
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let needsSurrogate = true
    public let patchFraction: Double
    public let settings: PatchOptimiser.Settings

    public init(target: Int, rate: Double, patchFraction: Double, settings: PatchOptimiser.Settings) {
        self.target = target
        self.rate = rate
        self.patchFraction = patchFraction
        self.settings = settings
    }

    public func patchSize(width: Int) -> Int { max(1, Int((patchFraction * Double(width)).rounded())) }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        let net = try context.requireSurrogate(displayName)
        let s = patchSize(width: train.width)
        let region = PatchRegion.bottomRight(height: train.height, width: train.width, size: s, margin: 0)
        guard region.fits(height: train.height, width: train.width) else {
            throw AttackParameterError(.patchFraction, "\(patchFraction) gives a \(s)-pixel patch that does not fit a \(train.height)x\(train.width) image")
        }
        var rng = SeededRNG(seed: context.seed, stream: "lba-target-mean")
        let ofTarget = train.labels.indices.filter { train.labels[$0] == target }
        guard !ofTarget.isEmpty else { throw DatasetError.invalid("the training set has no image of the target class \(target)") }
        let sample = Array(rng.permutation(ofTarget.count).prefix(1000).map { ofTarget[$0] })
        var mean: [Float] = []
        for start in stride(from: 0, to: sample.count, by: 256) {
            let f = try SurrogateOps.features(net, SurrogateOps.tensor(train, Array(sample[start..<min(start + 256, sample.count)])))
            let d = f.shape[1]
            if mean.isEmpty { mean = [Float](repeating: 0, count: d) }
            for i in 0..<f.shape[0] { for j in 0..<d { mean[j] += f.data[i * d + j] / Float(sample.count) } }
        }
        let d = mean.count
        let others = train.labels.indices.filter { train.labels[$0] != target }
        context.log("LBA: optimising a \(s)x\(s) patch toward the target class's mean features")
        let result = try PatchOptimiser.optimise(net, images: train, pool: others, region: region, settings: settings, seed: context.seed) { feats, dfeats in
            let n = feats.shape[0]
            var total = 0.0
            for i in 0..<n { for j in 0..<d {
                let diff = feats.data[i * d + j] - mean[j]
                total += Double(diff * diff)
                dfeats.data[i * d + j] = 2 * diff / Float(n * d)
            } }
            return total / Double(n * d)
        }
        let stamp = result.stamp
        let trigger: (UnsafeMutablePointer<UInt8>, Int, Int, Int, Int) -> Void = { img, h, w, c, _ in stamp.apply(img, height: h, width: w, channels: c) }
        var out = try stampPoison(train: train, test: test, context: context, trigger: trigger)
        // Surrogate-side check: how often the clean surrogate already calls triggered test images the target.
        let hit = try SurrogateOps.accuracy(net, out.triggeredTest, limit: 1000, seed: context.seed)
        out.details = [
            "patch": .object(["row": .number(Double(region.row)), "col": .number(Double(region.col)), "size": .number(Double(s))]),
            "feature_distance_before_after": .array([.number(result.firstLoss), .number(result.lastLoss)]),
            "surrogate_target_rate": .number(hit),
        ]
        return out
    }
}
