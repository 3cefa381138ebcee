import ABLNet

/// LGA granularity: the reference code's batch-mean form, the paper's per-sample form, or
/// `flooding` (the reference's name for the batch form: |loss - gamma| + gamma, same gradient).
public enum LGAGranularity: String, Sendable, CaseIterable {
    case batch, sample, flooding
}

/// What a training step minimises, expressed as a weight per sample of the cross-entropy
/// (the engine's backward takes exactly that).
public enum Objective: Sendable, Equatable {
    /// Mean cross-entropy: w_i = 1/n.
    case crossEntropy
    /// Local gradient ascent, sign(loss - gamma) * loss.
    case lga(gamma: Float, granularity: LGAGranularity)
    /// Gradient ascent (unlearning): w_i = -1/n. With a cap (this project's bounded variant, not
    /// the paper's), samples whose loss already exceeds the cap get weight 0: the ascent pushes
    /// the isolated samples to chance (cap ln K) instead of to confident mistakes without end.
    case ascent(cap: Float?)
    /// This project's unlearning variant, not the paper's: move the predictions on the samples
    /// toward the uniform distribution (minimise their cross-entropy to it). Its gradient,
    /// softmax - 1/K, does not vanish on confidently fitted backdoor samples, and it stops by
    /// itself at chance. Weights 1/n; the engine's uniform-target backward does the rest.
    case flatten
    /// This project's unlearning variant, not the paper's: push the samples away from the label
    /// they were given (an all-to-one backdoor's target) by minimising -log(1 - p(label)), the
    /// cross-entropy of the complementary label. Bounded, its gradient is largest while the
    /// model is confident and zero once the label's probability is 0; the prediction is left to
    /// the rest of the model (usually the sample's true class). Weights 1/n.
    case complement

    /// The gradient target of every sample, when it is not the label.
    public var target: CrossEntropy.Target? {
        switch self {
        case .flatten: return .uniform
        case .complement: return .notLabel
        default: return nil
        }
    }

    /// The per-sample weights for a batch with these losses, and the value the objective logs.
    public func weights(losses: [Float]) -> (weights: [Float], value: Float) {
        let n = Float(losses.count)
        let mean = losses.reduce(0, +) / n
        switch self {
        case .crossEntropy:
            return (Array(repeating: 1 / n, count: losses.count), mean)
        case .ascent(let cap):
            let w = losses.map { (l: Float) -> Float in
                if let c = cap, l >= c { return 0 }
                return -1 / n
            }
            return (w, -mean)
        case .flatten, .complement:
            // the logged value is minus the label's mean loss, as for the ascent
            return (Array(repeating: 1 / n, count: losses.count), -mean)
        case .lga(let gamma, let g):
            switch g {
            case .batch, .flooding:
                // d/dθ [sign(mean - gamma) * mean] = sign(mean - gamma) * d mean/dθ
                let s = Objective.sign(mean - gamma)
                let value = g == .flooding ? abs(mean - gamma) + gamma : s * mean
                return (Array(repeating: s / n, count: losses.count), value)
            case .sample:
                let w = losses.map { Objective.sign($0 - gamma) / n }
                return (w, zip(w, losses).map { $0 * $1 }.reduce(0, +))
            }
        }
    }

    static func sign(_ v: Float) -> Float { v > 0 ? 1 : (v < 0 ? -1 : 0) }
}
