import ABLNet
import Foundation
import Sanitizer

/// A model's scores on the test sets, rounded to four places (fractions in [0, 1]).
struct Scores: Codable, Equatable, Sendable {
    var ca: Double
    var caNT: Double
    /// Absent without a triggered test set.
    var asr: Double?
    /// Absent without a triggered test set or without its true labels.
    var ra: Double?
    /// Defense effectiveness rate against the no-defense model (the ABL model in report.json only).
    var der: Double?

    enum CodingKeys: String, CodingKey { case ca, caNT = "ca_nt", asr, ra, der }

    init(_ s: ModelScores) {
        ca = TrainingSupport.round4(s.ca); caNT = TrainingSupport.round4(s.caNT)
        asr = s.asr.map(TrainingSupport.round4); ra = s.ra.map(TrainingSupport.round4)
    }
}

/// One point of a per-epoch curve. Deterministic: the wall time is only added in report.json
/// (from the volatile timing.json).
struct CurvePoint: Codable, Equatable, Sendable {
    var phase: String
    var epoch: Int
    var lr: Double
    var loss: Double
    var ca: Double
    /// Absent for the surrogate, which has no triggered test set.
    var asr: Double?
    var seconds: Double?

    /// The clean accuracy as an optional, for charts that plot `ca` and `asr` alike.
    var caValue: Double? { ca }

    init(phase: String, epoch: Int, lr: Float, loss: Double, ca: Double, asr: Double?) {
        self.phase = phase; self.epoch = epoch; self.lr = Double(lr)
        self.loss = (loss * 1e5).rounded() / 1e5
        self.ca = TrainingSupport.round4(ca); self.asr = asr.map(TrainingSupport.round4)
    }
}

/// Where the stopping rule ended the ascent.
struct AscentStop: Codable, Equatable, Sendable {
    var epoch: Int
    var step: Int
}

/// `metrics.json` of the isolate, unlearn, baseline and clean stages.
struct TrainingMetrics: Codable, Sendable {
    var curve: [CurvePoint]
    var final: Scores
    /// Unlearn only: accuracy on the isolated samples (labels as given) after unlearning.
    var isolatedAccuracy: Double?
    /// Unlearn only: written as null when the rule never stopped the ascent.
    var ascentStopped: AscentStop??

    enum CodingKeys: String, CodingKey { case curve, final, isolatedAccuracy = "isolated_accuracy", ascentStopped = "ascent_stopped" }

    init(curve: [CurvePoint], final: Scores, isolatedAccuracy: Double? = nil, ascentStopped: AscentStop?? = nil) {
        self.curve = curve; self.final = final; self.isolatedAccuracy = isolatedAccuracy; self.ascentStopped = ascentStopped
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        curve = try c.decode([CurvePoint].self, forKey: .curve)
        final = try c.decode(Scores.self, forKey: .final)
        isolatedAccuracy = try c.decodeIfPresent(Double.self, forKey: .isolatedAccuracy)
        ascentStopped = c.contains(.ascentStopped) ? .some(try c.decodeIfPresent(AscentStop.self, forKey: .ascentStopped)) : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(curve, forKey: .curve)
        try c.encode(final, forKey: .final)
        try c.encodeIfPresent(isolatedAccuracy, forKey: .isolatedAccuracy)
        if let stop = ascentStopped { try c.encode(stop, forKey: .ascentStopped) }
    }
}

/// `metrics.json` of the surrogate stage.
struct SurrogateMetrics: Codable, Sendable {
    struct Final: Codable, Sendable { var ca: Double }
    var curve: [CurvePoint]
    var final: Final
    /// Trained: how many clean training images it saw.
    var trainCount: Int?
    /// Brought by the user: the checkpoint's path.
    var checkpoint: String?

    enum CodingKeys: String, CodingKey { case curve, final, trainCount = "train_count", checkpoint }
}

/// `timing.json`: wall seconds per epoch (volatile: left out of downstream digests).
struct Timing: Codable, Sendable {
    var epochSeconds: [Double]
    enum CodingKeys: String, CodingKey { case epochSeconds = "epoch_seconds" }
}
