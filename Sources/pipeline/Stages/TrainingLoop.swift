import ABLNet
import Foundation
import Sanitizer

/// The epoch loop every training stage runs: per epoch a progress bar, one epoch of training,
/// the model's scores, a point of the curve, the wall time and a log line. The stages differ only
/// in what one epoch does (`train`), how the model is scored and how the log line reads.
struct TrainingLoop {
    /// What the scoring of one epoch gives: the clean accuracy, and the attack success rate
    /// where there is a triggered test set.
    struct Score {
        let ca: Double
        let asr: Double?
    }

    let ctx: StageContext
    /// The curve so far, one point per epoch (metrics.json).
    private(set) var curve: [CurvePoint] = []
    /// Wall seconds per epoch (the volatile timing.json).
    private(set) var seconds: [Double] = []

    init(_ ctx: StageContext) { self.ctx = ctx }

    /// Runs epochs 1 through `epochs`, before each asking `stop` whether to end early.
    /// - Parameters:
    ///   - phase: the curve points' phase (`isolate`, `finetune`, ...); `label` names the progress bar.
    ///   - steps: optimiser steps per epoch, for the progress bar.
    ///   - lr: the learning rate of a 1-based epoch.
    ///   - train: one epoch (epoch, learning rate, progress callback taking the steps done); returns its mean loss.
    ///   - score: the model's scores after an epoch.
    ///   - log: the log line for an epoch from its loss and scores.
    mutating func run(phase: String, label: String, epochs: Int, steps: Int, lr: (Int) -> Float,
                      stop: () -> Bool = { false },
                      train: (_ epoch: Int, _ lr: Float, _ progress: @escaping (Int) -> Void) throws -> Double,
                      score: () throws -> Score,
                      log: (_ epoch: Int, _ loss: Double, _ score: Score) -> String) throws {
        var e = 1
        while e <= epochs && !stop() {
            let t0 = Date(), rate = lr(e)
            let bar = ctx.progress("\(label) epoch \(e)/\(epochs)", total: steps)
            let loss = try train(e, rate) { bar.update($0) }
            let s = try score()
            curve.append(CurvePoint(phase: phase, epoch: e, lr: rate, loss: loss, ca: s.ca, asr: s.asr))
            seconds.append(Date().timeIntervalSince(t0))
            ctx.log(log(e, loss, s))
            e += 1
        }
    }

    /// Writes the wall times to `timing.json`.
    func writeTiming() throws { try TrainingSupport.writeTiming(ctx, seconds) }
}

extension TrainingLoop.Score {
    init(_ s: ModelScores) { self.init(ca: s.ca, asr: s.asr) }

    /// `CA 81.20%, ASR 3.10%` for log lines; without a triggered test set only the CA.
    var text: String {
        String(format: "CA %.2f%%", ca * 100) + (asr.map { String(format: ", ASR %.2f%%", $0 * 100) } ?? "")
    }
}
