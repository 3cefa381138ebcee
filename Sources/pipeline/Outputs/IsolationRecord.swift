import Foundation
import Sanitizer

/// `isolation.json`: what the isolate stage isolated, and the statistics behind the choice.
struct IsolationRecord: Codable, Sendable {
    init(ratio: Double, count: Int, strategy: String, granularity: String) {
        self.ratio = ratio; self.count = count; self.strategy = strategy; self.granularity = granularity
    }

    /// The fraction isolated: p, or count / training-set size when adaptive.
    var ratio: Double
    var count: Int
    var strategy: String
    var granularity: String
    /// Target-aware only: the label isolated, inferred or given by the manifest.
    var inferredTarget: Int?
    var givenTarget: Int?
    var targetStatistic: String?
    /// Per label (as a string key) the three statistics, rounded to three places.
    var classSeparation: [String: Double]?
    var classModeGap: [String: Double]?
    var classSpread: [String: Double]?
    /// With `isolate.max_ratio` only.
    var adaptive: Adaptive?
    /// Present when the training set carries the poison ground truth.
    var precision: Double?
    var recall: Double?
    /// The verdict on the training set (absent with `isolate.detection` off).
    var detection: DetectionRecord?
    /// Whether the target was named by the verdict (true) or by the loss statistics.
    var targetFromDetection: Bool?
    /// `feature-distance` when the samples were taken by their distance from the label's test
    /// samples (`isolate.rank_by: detection-signal`), with the verdict's threshold; absent: by loss.
    var rankedBy: String?
    var distanceThreshold: Double?

    struct Adaptive: Codable, Sendable {
        var minRatio: Double
        var maxRatio: Double
        var boundaryLoss: Double?
        var mixtureLogLoss: Mixture?
        enum CodingKeys: String, CodingKey {
            case minRatio = "min_ratio", maxRatio = "max_ratio", boundaryLoss = "boundary_loss", mixtureLogLoss = "mixture_log_loss"
        }
    }

    /// The two-component mixture on the target label's log-losses.
    struct Mixture: Codable, Sendable {
        var lowMean: Double, lowStd: Double, highMean: Double, highStd: Double, lowWeight: Double
        enum CodingKeys: String, CodingKey {
            case lowMean = "low_mean", lowStd = "low_std", highMean = "high_mean", highStd = "high_std", lowWeight = "low_weight"
        }
    }

    enum CodingKeys: String, CodingKey {
        case ratio, count, strategy, granularity, precision, recall, adaptive, detection
        case targetFromDetection = "target_from_detection", rankedBy = "ranked_by", distanceThreshold = "distance_threshold"
        case inferredTarget = "inferred_target", givenTarget = "given_target", targetStatistic = "target_statistic"
        case classSeparation = "class_separation", classModeGap = "class_mode_gap", classSpread = "class_spread"
    }

    /// The record of a selection made with the given settings (figures rounded as written).
    init(_ sel: Isolation.Selection, settings s: IsolateConfig, trainCount: Int, poisoned: [Bool]?) {
        let effective = TrainingSupport.round4(Double(sel.indices.count) / Double(max(1, trainCount)))
        self.init(ratio: s.maxRatio == nil ? s.ratio : effective, count: sel.indices.count, strategy: s.strategy.rawValue, granularity: s.granularity.rawValue)
        if let maxRatio = s.maxRatio {
            var a = Adaptive(minRatio: s.ratio, maxRatio: maxRatio)
            if let mix = sel.mixture {
                func r(_ v: Double) -> Double { (v * 10000).rounded() / 10000 }
                a.boundaryLoss = Double(Float(exp(mix.boundary)))
                a.mixtureLogLoss = .init(lowMean: r(mix.mean0), lowStd: r(mix.std0), highMean: r(mix.mean1), highStd: r(mix.std1), lowWeight: r(mix.weight0))
            }
            adaptive = a
        }
        if let t = sel.inferredTarget, sel.targetStatistic != nil {
            if sel.targetGiven { givenTarget = t } else { inferredTarget = t }
        }
        if sel.targetFromVerdict { targetFromDetection = true }
        if let d = sel.distanceThreshold {
            rankedBy = Detection.Signal.featureDistance.rawValue
            distanceThreshold = (d * 10000).rounded() / 10000
            adaptive?.boundaryLoss = nil
            adaptive?.mixtureLogLoss = nil
        }
        targetStatistic = sel.targetStatistic?.rawValue
        for st in TargetStatistic.allCases where !sel.scores(for: st).isEmpty {
            setScores(st, Dictionary(uniqueKeysWithValues: sel.scores(for: st).map { (String($0.key), ($0.value * 1000).rounded() / 1000) }))
        }
        if let p = poisoned, !sel.indices.isEmpty {
            let pr = Metrics.isolationPrecisionRecall(isolated: sel.indices, poisoned: p)
            precision = TrainingSupport.round4(pr.precision)
            recall = TrainingSupport.round4(pr.recall)
        }
    }

    /// The per-label values of one statistic.
    func scores(_ s: TargetStatistic) -> [String: Double]? {
        switch s {
        case .separation: return classSeparation
        case .modeGap: return classModeGap
        case .spread: return classSpread
        }
    }

    mutating func setScores(_ s: TargetStatistic, _ v: [String: Double]) {
        switch s {
        case .separation: classSeparation = v
        case .modeGap: classModeGap = v
        case .spread: classSpread = v
        }
    }
}
