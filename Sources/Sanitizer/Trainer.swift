import ABLNet
import Foundation
import Datasets

/// Errors of training, naming the epoch by the name its plan gives it.
public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: String)
    case invalid(String)

    public var description: String {
        switch self {
        case .diverged(let e): return "\(e): loss is NaN or infinite (the run diverged; lower the learning rate)"
        case .invalid(let r): return r
        }
    }
}

/// Optimiser settings shared by every training stage.
public struct OptimiserSettings: Sendable {
    public var batchSize = 128
    public var momentum: Float = 0.9
    public var nesterov = true
    public var weightDecay: Float = 1e-4
    public init() {}
}

/// Trains a network on images held in memory, one epoch at a time.
public final class Trainer {
    public let net: Network
    public let settings: OptimiserSettings
    let sgd: SGD
    let ce = CrossEntropy()
    var rng: SeededRNG
    let x = Tensor(shape: [0])
    /// The ranks that train this model together; each step's global batch is split over them.
    public let group: any Collective
    /// This rank's shard of the batch, and the gradients packed for their sum over the ranks.
    let shard = Tensor(shape: [0])
    var gradientScratch: [Float] = []

    public init(net: Network, settings: OptimiserSettings, seed: UInt64, stream: String, group: any Collective = SingleProcess()) {
        self.net = net
        self.settings = settings
        self.group = group
        sgd = SGD(parameters: net.parameters.map(\.1), lr: 0.1, momentum: settings.momentum, nesterov: settings.nesterov,
                  weightDecay: settings.weightDecay)
        rng = SeededRNG(seed: seed, stream: stream)
    }

    /// One optimisation step on the samples `indices` of `split` with per-sample weights from
    /// `weightsFor(losses)`; returns the logged objective value.
    ///
    /// Over several ranks, every rank fills the whole global batch (so the augmentation draws
    /// the same random numbers as one process would), runs forward and backward on its shard,
    /// and sees every sample's loss (gathered), so the weights, the logged value and the
    /// divergence check are those of the global batch on every rank.
    @discardableResult
    func step(_ split: DatasetSplit, indices: ArraySlice<Int>, labels: [Int], augment: Augmentation, lr: Float, context: String,
              targets: [CrossEntropy.Target]? = nil, weightsFor: ([Float]) -> (weights: [Float], value: Float)) throws -> Float {
        split.pixels.withUnsafeBufferPointer {
            Batcher.fill(x, pixels: $0.baseAddress!, height: split.height, width: split.width, channels: split.channels,
                         indices: indices, aug: augment, rng: &rng)
        }
        // a batch with fewer samples than ranks (the last of an epoch, over many ranks) runs
        // whole on every rank: the same step, computed redundantly, with nothing to exchange
        guard group.isDistributed, indices.count >= group.size else {
            let logits = try net.forward(x, mode: .train)
            let losses = try ce.forward(logits: logits, labels: labels, context: context)
            let (w, value) = weightsFor(losses)
            try net.backward(targets.map { ce.backward(weights: w, targets: $0) } ?? ce.backward(weights: w))
            sgd.lr = lr
            sgd.step()
            guard value.isFinite else { throw ABLNetError.nonFinite(context) }
            return value
        }
        let mine = group.shard(indices.count)
        shard.copy(rows: mine, of: x)
        net.shareBatchStatistics(group)
        defer { net.shareBatchStatistics(nil) }
        let logits = try net.forward(shard, mode: .train)
        // a non-finite loss on one rank is every rank's: it travels as NaN in the gathered losses
        let local: [Float]
        do { local = try ce.forward(logits: logits, labels: Array(labels[mine]), context: context) } catch ABLNetError.nonFinite {
            local = [Float](repeating: .nan, count: mine.count)
        }
        let losses = group.gather(local, count: indices.count)
        guard losses.allSatisfy(\.isFinite) else { throw ABLNetError.nonFinite(context) }
        let (w, value) = weightsFor(losses)
        let wMine = Array(w[mine])
        try net.backward(targets.map { ce.backward(weights: wMine, targets: Array($0[mine])) } ?? ce.backward(weights: wMine))
        net.sumGradients(group, scratch: &gradientScratch)
        sgd.lr = lr
        sgd.step()
        guard value.isFinite else { throw ABLNetError.nonFinite(context) }
        return value
    }

    /// One epoch of the plan's objective over its samples. `afterStep(steps done, steps in the
    /// epoch)` may end the epoch early by returning false. Returns the mean of the logged
    /// objective over the steps.
    public func epoch(_ split: DatasetSplit, _ plan: EpochPlan, afterStep: ((Int, Int) throws -> Bool)? = nil) throws -> Double {
        let all = plan.samples ?? Array(0..<split.count)
        guard !all.isEmpty else { throw TrainingError.invalid("\(plan.name): no sample to train on") }
        let objective = plan.objective
        let order = plan.order == .shuffled ? rng.permutation(all.count).map { all[$0] } : all
        var total = 0.0, steps = 0
        let nSteps = (order.count + settings.batchSize - 1) / settings.batchSize
        for start in Swift.stride(from: 0, to: order.count, by: settings.batchSize) {
            let idx = order[start..<min(start + settings.batchSize, order.count)]
            do {
                total += Double(try step(split, indices: idx, labels: idx.map { split.labels[$0] }, augment: plan.augment, lr: plan.lr,
                                         context: plan.name,
                                         targets: objective.target.map { Array(repeating: $0, count: idx.count) },
                                         weightsFor: objective.weights))
            } catch ABLNetError.nonFinite {
                throw TrainingError.diverged(epoch: plan.name)
            }
            steps += 1
            if let after = afterStep, try !after(steps, nSteps) { break }
        }
        net.broadcastState(group)
        return total / Double(max(steps, 1))
    }

    /// One epoch of the paper's joint objective: every step descends on a batch of `clean` and
    /// ascends on a batch of `isolated` (cycled), loss(D_c) - lambda * loss(D_b), in one forward
    /// pass so that BatchNorm sees both kinds of samples. Returns the mean objective.
    /// `unlearning` says what the isolated samples get: `.ascent(cap:)` (the paper's; with a cap,
    /// isolated samples whose loss exceeds it get no ascent), or an objective with its own
    /// gradient target, `.flatten` (toward the uniform distribution) or `.complement` (away from
    /// their label), both with weight +lambda/n_b.
    public func jointEpoch(_ split: DatasetSplit, _ plan: JointEpochPlan) throws -> Double {
        let clean = plan.clean, isolated = plan.isolated, lambda = plan.lambda
        let isolatedTarget = plan.unlearning.target
        var cap: Float? = nil
        if case .ascent(let c) = plan.unlearning { cap = c }
        guard !clean.isEmpty, !isolated.isEmpty else { throw TrainingError.invalid("\(plan.name): joint unlearning needs clean and isolated samples") }
        let order = plan.order == .shuffled ? rng.permutation(clean.count).map { clean[$0] } : clean
        var isoOrder = rng.permutation(isolated.count).map { isolated[$0] }
        var isoPos = 0
        let bb = min(max(settings.batchSize / 4, 1), isolated.count)
        var total = 0.0, steps = 0
        for start in Swift.stride(from: 0, to: order.count, by: settings.batchSize) {
            let c = Array(order[start..<min(start + settings.batchSize, order.count)])
            var b: [Int] = []
            for _ in 0..<bb {
                if isoPos == isoOrder.count { isoOrder = rng.permutation(isolated.count).map { isolated[$0] }; isoPos = 0 }
                b.append(isoOrder[isoPos]); isoPos += 1
            }
            let idx = c + b
            let nc = Float(c.count), nb = Float(b.count)
            do {
                total += Double(try step(split, indices: idx[...], labels: idx.map { split.labels[$0] }, augment: plan.augment, lr: plan.lr,
                                         context: plan.name,
                                         targets: isolatedTarget.map { t in (0..<idx.count).map { $0 < c.count ? .label : t } }) { losses in
                    let w = (0..<losses.count).map { i -> Float in
                        if i < c.count { return 1 / nc }
                        if isolatedTarget != nil { return lambda / nb }
                        if let cap, losses[i] >= cap { return 0 }
                        return -lambda / nb
                    }
                    return (w, zip(w, losses).map { $0 * $1 }.reduce(0, +))
                })
            } catch ABLNetError.nonFinite {
                throw TrainingError.diverged(epoch: plan.name)
            }
            steps += 1
        }
        net.broadcastState(group)
        return total / Double(max(steps, 1))
    }
}
