import Foundation

/// How the isolated set D_b is chosen from the per-sample losses after LGA training.
public enum IsolationStrategy: String, Sendable, CaseIterable {
    /// The reference: the fraction p of all samples with the lowest loss.
    case lowestLoss = "lowest-loss"
    /// Uses the backdoor's second weakness (it is tied to one class). The target class is
    /// inferred from each label's losses (`TargetStatistic`): its samples are a mix of backdoored
    /// ones, learned far faster than anything else, and its clean ones. Then the fraction p of
    /// the whole set with the lowest loss among the samples of that label is isolated.
    /// (Counting labels among the lowest losses instead fails on Fashion-MNIST: clean Trousers
    /// are learned as fast as the trigger.)
    case targetAware = "target-aware"
}

/// How target-aware isolation tells the target label from the others (this project's variants).
public enum TargetStatistic: String, Sendable, CaseIterable {
    /// The mode gap times the modes' separation in pooled standard deviations (Ashman's D):
    /// gap^2 / sqrt((s0^2 + s1^2) / 2), from the same mixture as `modeGap`. A backdoor leaves a
    /// narrow low mode far below the label's clean samples; a naturally easy class (Bags,
    /// Trousers) can also fit two modes far apart in log-loss, but broad ones that overlap, which
    /// the gap alone cannot tell from a backdoor. A poison learned only a little faster than the
    /// target's clean samples leaves no narrow low mode, and no loss statistic finds it
    /// (docs/DESIGN.md, "Why the defaults").
    case separation
    /// The distance between the two modes of a two-component Gaussian mixture fitted to the
    /// label's log-losses (`LossMixture`: high mean minus low mean): the target label holds two
    /// populations, the backdoored samples far below its clean ones, while a clean label's losses
    /// form one mode, however easy or hard the class. It does not depend on the share of the
    /// label that is poisoned. A mixture whose smaller component holds under 2 % of the label
    /// (a handful of outliers) counts as one mode (gap 0).
    case modeGap = "mode-gap"
    /// log(median / 5th percentile) of the label's losses: the first statistic. It fails once
    /// more than half of the target label is poisoned (a clean-label attack on 80 % of its class:
    /// the median then lies in the backdoor's mode).
    case spread
}

public enum Isolation {
    /// The result: isolated indices from lowest loss up, and the inferred target (target-aware).
    public struct Selection: Sendable, Equatable {
        public var indices: [Int]
        public var inferredTarget: Int?
        /// Whether `inferredTarget` was given by the caller (`knownTarget`) rather than inferred.
        public var targetGiven = false
        /// Whether `inferredTarget` is the label a detection verdict named (rather than the one
        /// the loss statistics chose).
        public var targetFromVerdict = false
        /// Whether a "no backdoor" verdict left the isolated set empty.
        public var skippedAsClean = false
        /// Per class, log(median loss / 5th-percentile loss) (target-aware only).
        public var classSpread: [Int: Double] = [:]
        /// Per class, the gap between the modes of its log-loss mixture (target-aware only).
        public var classModeGap: [Int: Double] = [:]
        /// Per class, the gap times Ashman's D of that mixture (target-aware only).
        public var classSeparation: [Int: Double] = [:]
        /// The statistic that chose the target (target-aware only).
        public var targetStatistic: TargetStatistic? = nil
        /// The mixture that set the count (adaptive target-aware isolation only).
        public var mixture: LossMixture? = nil
        /// Set when the samples were ordered by their feature distance (`byDistance`) rather than
        /// their loss: the verdict's distance threshold.
        public var distanceThreshold: Double? = nil

        /// The per-class values of one statistic.
        public func scores(for statistic: TargetStatistic) -> [Int: Double] {
            switch statistic {
            case .separation: return classSeparation
            case .modeGap: return classModeGap
            case .spread: return classSpread
            }
        }

        /// The label other than the inferred target with the highest value of the statistic that
        /// chose it, and that value (ties go to the lowest label): how clear the choice was.
        /// Nil for a given target: no choice was made.
        public var runnerUp: (label: Int, score: Double)? {
            guard let t = inferredTarget, let st = targetStatistic, !targetGiven, !targetFromVerdict else { return nil }
            return Isolation.top(scores(for: st).filter { $0.key != t })
        }
    }

    /// The label with the highest score and that score; ties go to the lowest label.
    public static func top(_ scores: [Int: Double]) -> (label: Int, score: Double)? {
        scores.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }.map { ($0.key, $0.value) }
    }

    /// log(median / 5th percentile) of each label's losses (labels with fewer than 20 samples
    /// are left out: their percentiles mean little).
    public static func classSpread(losses: [Float], labels: [Int]) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for (c, ls) in byLabel(losses: losses, labels: labels) {
            let sorted = ls.sorted()
            func q(_ f: Double) -> Double { max(Double(sorted[Int(f * Double(sorted.count - 1))]), 1e-12) }
            out[c] = log(q(0.5)) - log(q(0.05))
        }
        return out
    }

    /// Samples per label (labels with fewer than 20 samples are left out, as in `classSpread`).
    static func byLabel(losses: [Float], labels: [Int]) -> [Int: [Float]] {
        var byClass: [Int: [Float]] = [:]
        for (l, y) in zip(losses, labels) { byClass[y, default: []].append(l) }
        return byClass.filter { $0.value.count >= 20 }
    }

    /// Per label: the mixture, the mode gap and the separation (`TargetStatistic.separation`);
    /// a label whose mixture cannot be fitted, or whose smaller component holds under 2 %, scores 0.
    public static func classMixtures(losses: [Float], labels: [Int]) -> (gap: [Int: Double], separation: [Int: Double], mixtures: [Int: LossMixture]) {
        var gap: [Int: Double] = [:], separation: [Int: Double] = [:], mixtures: [Int: LossMixture] = [:]
        for (c, ls) in byLabel(losses: losses, labels: labels) {
            guard let m = LossMixture.fit(ls) else { gap[c] = 0; separation[c] = 0; continue }
            mixtures[c] = m
            let g = min(m.weight0, 1 - m.weight0) < 0.02 ? 0 : m.mean1 - m.mean0
            gap[c] = g
            separation[c] = g * g / ((m.std0 * m.std0 + m.std1 * m.std1) / 2).squareRoot()
        }
        return (gap, separation, mixtures)
    }

    /// Number of samples a ratio isolates: round(ratio * count), at least 1.
    public static func count(ratio: Double, of total: Int) -> Int { max(1, min(total, Int((ratio * Double(total)).rounded()))) }

    /// Indices sorted by loss, lowest first (ties by index, so the order is deterministic).
    public static func ranking(_ losses: [Float]) -> [Int] {
        losses.indices.sorted { losses[$0] != losses[$1] ? losses[$0] < losses[$1] : $0 < $1 }
    }

    /// Chooses D_b. With `maxRatio` (target-aware only) the count is adaptive: every sample of
    /// the inferred target label whose log-loss lies below the boundary of a two-component
    /// mixture fitted to that label's log-losses (`LossMixture`), at least `ratio` and at most
    /// `maxRatio` of the training set. A `knownTarget` (target-aware only) is isolated instead of
    /// the inferred label; the per-label statistics are computed all the same.
    ///
    /// A detection `verdict` comes first: "no backdoor" isolates nothing (unless `whenClean` says
    /// otherwise); a found backdoor's target is the label target-aware isolation takes, unless
    /// `knownTarget` is given.
    public static func select(losses: [Float], labels: [Int], ratio: Double, strategy: IsolationStrategy, maxRatio: Double? = nil,
                              targetStatistic: TargetStatistic = .separation, knownTarget: Int? = nil,
                              verdict: Detection.Verdict? = nil, whenClean: Detection.WhenClean = .isolateNothing) -> Selection {
        if let v = verdict, !v.backdoor, whenClean == .isolateNothing {
            var sel = Selection(indices: [], inferredTarget: nil)
            sel.skippedAsClean = true
            if strategy == .targetAware {
                // the statistics are still worth recording: they show what isolation would have taken
                let (gap, separation, _) = classMixtures(losses: losses, labels: labels)
                sel.classSpread = classSpread(losses: losses, labels: labels)
                sel.classModeGap = gap
                sel.classSeparation = separation
                sel.targetStatistic = targetStatistic
            }
            return sel
        }
        if knownTarget == nil, strategy == .targetAware, let t = verdict?.target {
            var sel = select(losses: losses, labels: labels, ratio: ratio, strategy: strategy, maxRatio: maxRatio,
                             targetStatistic: targetStatistic, knownTarget: t)
            sel.targetGiven = false
            sel.targetFromVerdict = true
            return sel
        }
        let k = count(ratio: ratio, of: losses.count)
        let ranked = ranking(losses)
        switch strategy {
        case .lowestLoss:
            return Selection(indices: Array(ranked.prefix(k)), inferredTarget: nil)
        case .targetAware:
            let (gap, separation, mixtures) = classMixtures(losses: losses, labels: labels)
            var sel = Selection(indices: [], inferredTarget: nil, classSpread: classSpread(losses: losses, labels: labels), classModeGap: gap,
                                classSeparation: separation, targetStatistic: targetStatistic)
            // the given target, else the highest score (ties go to the lowest label)
            guard let target = knownTarget ?? top(sel.scores(for: targetStatistic))?.label else {
                return Selection(indices: Array(ranked.prefix(k)), inferredTarget: nil)
            }
            sel.inferredTarget = target
            sel.targetGiven = knownTarget != nil
            let ofTarget = ranked.filter { labels[$0] == target }
            guard let maxRatio else {
                sel.indices = Array(ofTarget.prefix(k))
                return sel
            }
            let mixture = mixtures[target]
            var n = k
            if let b = mixture?.boundary {
                n = ofTarget.lazy.filter { log(max(Double(losses[$0]), 1e-12)) < b }.count
            }
            n = max(k, min(n, count(ratio: maxRatio, of: losses.count)))
            sel.indices = Array(ofTarget.prefix(n))
            sel.mixture = mixture
            return sel
        }
    }
}
