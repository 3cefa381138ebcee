import ABLNet

/// Trojan (TrojanNN, Liu et al. 2018), as a data-poisoning attack: a patch whose pixels are
/// optimised on a clean surrogate so that a few chosen neurons fire strongly; dirty-label.
///
/// Neurons: the channels of the last feature map whose incoming weights (the last convolution
/// producing those channels) have the largest summed magnitude, as TrojanNN picks the neurons
/// most strongly connected to the previous layer, each taken at the feature-map unit over the
/// patch's centre (a unit the patch can drive; the globally pooled feature barely moves for a
/// 3x3 patch). Objective: TrojanNN's `sum (activation - v)^2` over the chosen neurons, with
/// v = `activationGain` x the channel's largest activation on clean images. TrojanNN then retrains the model; here the victim learns the
/// patch from the poisoned data instead.
public struct Trojan: Attack {
    public let kind = "trojan"
    public let displayName = "Trojan (TrojanNN trigger)"
    public let labelKind = LabelKind.dirty
    public let targetMode: TargetMode
    public let target: Int
    public let rate: Double
    public let needsSurrogate = true
    public let patchSize: Int
    public let margin: Int
    public let neurons: Int
    public let activationGain: Float
    public let settings: PatchOptimiser.Settings

    public init(target: Int, rate: Double, targetMode: TargetMode, patchSize: Int, margin: Int,
                neurons: Int, activationGain: Float, settings: PatchOptimiser.Settings) {
        self.target = target
        self.rate = rate
        self.targetMode = targetMode
        self.patchSize = patchSize
        self.margin = margin
        self.neurons = neurons
        self.activationGain = activationGain
        self.settings = settings
    }

    /// The `count` feature channels with the largest summed incoming weight magnitude.
    public static func chooseNeurons(_ net: Network, count: Int) throws -> [Int] {
        let x = Tensor(shape: [1, net.inputChannels, 8, 8])
        x.zero()
        let f = try SurrogateOps.features(net, x).shape[1]
        guard let (_, w) = net.parameters.last(where: { $0.1.value.shape.count == 4 && $0.1.value.shape[0] == f }) else {
            throw DatasetError.invalid("no convolution produces the \(f) feature channels of \(net.architecture)")
        }
        let per = w.value.count / f
        let strength = (0..<f).map { c in (0..<per).reduce(Float(0)) { $0 + abs(w.value.data[c * per + $1]) } }
        return Array((0..<f).sorted { strength[$0] != strength[$1] ? strength[$0] > strength[$1] : $0 < $1 }.prefix(min(count, f)))
    }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        let net = try context.requireSurrogate(displayName)
        let region = PatchRegion.bottomRight(height: train.height, width: train.width, size: patchSize, margin: margin)
        guard region.fits(height: train.height, width: train.width) else {
            throw AttackParameterError(.patchSize, "\(patchSize) with margin \(margin) does not fit a \(train.height)x\(train.width) image")
        }
        let chosenNeurons = try Trojan.chooseNeurons(net, count: neurons)
        var rng = SeededRNG(seed: context.seed, stream: "trojan-probe")
        let probe = Array(rng.permutation(train.count).prefix(512))
        let clean = try SurrogateOps.featureMap(net, SurrogateOps.tensor(train, probe))
        let (f, mh, mw) = (clean.shape[1], clean.shape[2], clean.shape[3])
        // The neuron: channel c of the last feature map at the unit over the patch's centre.
        let uy: Int = min(mh - 1, (region.row * 2 + patchSize) * mh / (2 * train.height))
        let ux: Int = min(mw - 1, (region.col * 2 + patchSize) * mw / (2 * train.width))
        func unit(_ map: Tensor, _ i: Int, _ c: Int) -> Int { ((i * f + c) * mh + uy) * mw + ux }
        func meanUnit(_ map: Tensor, _ c: Int) -> Float { (0..<map.shape[0]).reduce(Float(0)) { $0 + map.data[unit(map, $1, c)] } / Float(map.shape[0]) }
        func channelMax(_ c: Int) -> Float {
            var best = -Float.infinity
            for i in 0..<probe.count { for p in 0..<(mh * mw) { best = max(best, clean.data[(i * f + c) * mh * mw + p]) } }
            return best
        }
        let cleanMax = chosenNeurons.map(channelMax)
        let cleanMean = chosenNeurons.map { meanUnit(clean, $0) }
        let goal = cleanMax.map { max($0, 1e-3) * activationGain }
        context.log("Trojan: optimising a \(patchSize)x\(patchSize) patch for channels \(chosenNeurons) at feature-map unit (\(uy), \(ux)) (goal activations \(goal.map { String(format: "%.2f", $0) }))")
        let result = try PatchOptimiser.optimise(net, images: train, pool: Array(train.labels.indices), region: region, settings: settings,
                                                 seed: context.seed, layer: .map) { map, dmap in
            let n = map.shape[0]
            var total = 0.0
            for i in 0..<n { for (k, c) in chosenNeurons.enumerated() {
                let u = unit(map, i, c)
                let d = map.data[u] - goal[k]
                total += Double(d * d)
                dmap.data[u] = 2 * d / Float(n * chosenNeurons.count)
            } }
            return total / Double(n * chosenNeurons.count)
        }
        let stamp = result.stamp
        let trigger: (UnsafeMutablePointer<UInt8>, Int, Int, Int, Int) -> Void = { img, h, w, c, _ in stamp.apply(img, height: h, width: w, channels: c) }
        var out = try stampPoison(train: train, test: test, context: context, trigger: trigger)
        var patched = train.subset(probe)
        let size = patched.sampleSize, count = patched.count
        patched.pixels.withUnsafeMutableBufferPointer { px in for k in 0..<count { trigger(px.baseAddress! + k * size, train.height, train.width, train.channels, k) } }
        let after = try SurrogateOps.featureMap(net, SurrogateOps.tensor(patched, Array(0..<count)))
        let afterMean = chosenNeurons.map { meanUnit(after, $0) }
        out.details = [
            "neurons": .array(chosenNeurons.map { .number(Double($0)) }),
            "unit": .array([.number(Double(uy)), .number(Double(ux))]),
            "clean_mean_activation": .array(cleanMean.map { .number(Double($0)) }),
            "triggered_mean_activation": .array(afterMean.map { .number(Double($0)) }),
            "goal_activation": .array(goal.map { .number(Double($0)) }),
            "neuron_loss_before_after": .array([.number(result.firstLoss), .number(result.lastLoss)]),
            "patch": .object(["row": .number(Double(region.row)), "col": .number(Double(region.col)), "size": .number(Double(region.size))]),
        ]
        return out
    }
}
