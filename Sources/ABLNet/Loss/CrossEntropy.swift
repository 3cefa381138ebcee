import Foundation

/// Softmax cross-entropy that returns the loss of every sample, with a backward that takes a
/// weight per sample: dlogits_i = w_i * (softmax(logits_i) - onehot(y_i)).
///
/// ABL's objectives are all weights: the mean loss is w_i = 1/N; LGA on the batch mean is
/// w_i = sign(mean - gamma)/N; LGA per sample is w_i = sign(loss_i - gamma)/N; gradient ascent
/// (unlearning) is w_i = -1/N.
public final class CrossEntropy {
    private var probs = Tensor(shape: [0])
    private var labels: [Int] = []
    private let dlogits = Tensor(shape: [0])

    public init() {}

    /// Per-sample losses -log softmax(logits_i)[y_i]. Throws on a bad label or a non-finite loss.
    public func forward(logits: Tensor, labels: [Int], context: String = "cross-entropy") throws -> [Float] {
        guard logits.shape.count == 2, logits.shape[0] == labels.count else {
            throw ABLNetError.shapeMismatch(layer: context, expected: "(\(labels.count), classes) logits", got: logits.shape)
        }
        let (n, k) = (logits.shape[0], logits.shape[1])
        guard n > 0 else { throw ABLNetError.emptyBatch(context) }
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            throw ABLNetError.invalidArgument("\(context): label \(bad) is not a class (0..<\(k))")
        }
        self.labels = labels
        probs.reshape(to: logits.shape)
        var losses = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let z = logits.data + i * k, p = probs.data + i * k
            // the max is subtracted only for numerical stability
            var maxv = -Float.infinity
            for j in 0..<k { maxv = max(maxv, z[j]) }
            var s: Float = 0
            for j in 0..<k { p[j] = expf(z[j] - maxv); s += p[j] }
            let inv = 1 / s
            for j in 0..<k { p[j] *= inv }
            losses[i] = -(z[labels[i]] - maxv - logf(s))
            guard losses[i].isFinite else { throw ABLNetError.nonFinite(context) }
        }
        return losses
    }

    /// Gradient of Σ_i w_i * loss_i with respect to the logits of the last forward.
    public func backward(weights: [Float]) -> Tensor {
        let (n, k) = (probs.shape[0], probs.shape[1])
        dlogits.reshape(to: probs.shape)
        for i in 0..<n {
            let p = probs.data + i * k, d = dlogits.data + i * k, w = weights[i]
            for j in 0..<k { d[j] = w * p[j] }
            d[labels[i]] -= w
        }
        return dlogits
    }

    /// Like `backward(weights:)`, but samples with `towardUniform[i]` use the uniform
    /// distribution as their target instead of their label: d = w_i * (softmax - 1/K), the
    /// gradient of the cross-entropy to the uniform distribution. It is large while the model is
    /// confident and zero at chance, unlike the gradient of the label's loss, which vanishes on
    /// samples fitted with near-zero loss.
    public func backward(weights: [Float], towardUniform: [Bool]) -> Tensor {
        backward(weights: weights, targets: towardUniform.map { $0 ? .uniform : .label })
    }

    /// What a sample's gradient pulls toward.
    public enum Target: Sendable, Equatable {
        /// Its label: the cross-entropy's usual gradient, softmax - onehot(y).
        case label
        /// The uniform distribution: softmax - 1/K.
        case uniform
        /// Away from its label: the gradient of -log(1 - p_y), the cross-entropy of the
        /// complementary label. d/dz_y = p_y, d/dz_j = -p_y * p_j / (1 - p_y) for j != y: large
        /// while the model is confident in y, zero once p_y is 0, and bounded (unlike the
        /// gradient ascent on -log p_y, whose loss grows without end).
        case notLabel
    }

    /// Gradient of Σ_i w_i * loss_i(target_i) with respect to the logits of the last forward.
    public func backward(weights: [Float], targets: [Target]) -> Tensor {
        let (n, k) = (probs.shape[0], probs.shape[1])
        dlogits.reshape(to: probs.shape)
        let u = 1 / Float(k)
        for i in 0..<n {
            let p = probs.data + i * k, d = dlogits.data + i * k, w = weights[i], y = labels[i]
            switch targets[i] {
            case .label:
                for j in 0..<k { d[j] = w * p[j] }
                d[y] -= w
            case .uniform:
                for j in 0..<k { d[j] = w * (p[j] - u) }
            case .notLabel:
                // 1 - p_y as the sum of the other probabilities: exact even when p_y rounds to 1
                var rest: Float = 0
                for j in 0..<k where j != y { rest += p[j] }
                let scale = p[y] / max(rest, 1e-30)
                for j in 0..<k { d[j] = -w * scale * p[j] }
                d[y] = w * p[y]
            }
        }
        return dlogits
    }

    /// -log(1 - p_y) of the last forward's sample i (the complementary label's cross-entropy).
    public func complementLoss(_ i: Int) -> Float {
        let k = probs.shape[1]
        var rest: Float = 0
        for j in 0..<k where j != labels[i] { rest += probs.data[i * k + j] }
        return -logf(max(rest, 1e-30))
    }

    /// Cross-entropy of the last forward's sample i to the uniform distribution: -mean_k log p_k.
    public func uniformLoss(_ i: Int) -> Float {
        let k = probs.shape[1]
        var s: Float = 0
        for j in 0..<k { s -= logf(max(probs.data[i * k + j], 1e-30)) }
        return s / Float(k)
    }

    /// The class with the highest probability, per sample, from the last forward.
    public func predictions() -> [Int] { probs.rowArgmax() }
}
