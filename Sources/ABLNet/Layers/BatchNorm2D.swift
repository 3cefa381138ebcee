import Foundation

/// Batch normalisation over (N, H, W) per channel, with PyTorch's semantics: batch statistics
/// in training (running mean and unbiased running variance updated with momentum 0.1), running
/// statistics in evaluation, eps 1e-5.
///
/// `frozen` makes a training-mode pass normalise with the running statistics and leave them
/// untouched (gamma and beta still learn), so that batches of one kind (for example only the
/// isolated samples during unlearning) cannot rewrite the normalisation.
///
/// `relu` fuses a following ReLU: y = max(0, bn(x)) in the same pass, and the backward masks
/// dy by y > 0 inside its own passes (the pre-activation blocks' bn → relu pairs; one sweep
/// over the activations fewer each way).
public final class BatchNorm2D: Layer {
    public let name: String
    public let channels: Int
    public let eps: Float = 1e-5
    public let momentum: Float = 0.1
    public let weight: Parameter   // gamma
    public let bias: Parameter     // beta
    public let runningMean: Tensor
    public let runningVar: Tensor
    public var numBatchesTracked = 0
    public var frozen = false
    /// Apply max(0, ·) to the output (a fused ReLU).
    public let relu: Bool

    private var input: Tensor?
    private let output = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])
    private var mean: [Float]
    private var rstd: [Float]           // 1 / sqrt(var + eps) used by the last forward
    private var usedBatchStatistics = false

    public init(name: String, channels: Int, relu: Bool = false) {
        self.name = name
        self.channels = channels
        self.relu = relu
        weight = Parameter(shape: [channels])
        bias = Parameter(shape: [channels])
        weight.value.buffer.update(repeating: 1)
        runningMean = Tensor(shape: [channels])
        runningVar = Tensor(shape: [channels])
        runningVar.buffer.update(repeating: 1)
        mean = Array(repeating: 0, count: channels)
        rstd = Array(repeating: 1, count: channels)
    }

    public func parameters(prefix: String) -> [(String, Parameter)] {
        [(prefix + "weight", weight), (prefix + "bias", bias)]
    }

    public func buffers(prefix: String) -> [(String, Tensor)] {
        [(prefix + "running_mean", runningMean), (prefix + "running_var", runningVar)]
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try expectShape(x, name, channels: channels)
        let n = x.shape[0], hw = x.shape[2] * x.shape[3], chw = channels * hw
        input = x
        output.reshape(to: x.shape)
        let batchStats = mode == .train && !frozen
        usedBatchStatistics = batchStats
        if batchStats && n * hw < 2 {
            throw ABLNetError.invalidArgument("\(name): batch statistics need more than one value per channel (got \(x.shape))")
        }
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data)
        let meanP = UnsafeSendable(mean.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let rstdP = UnsafeSendable(rstd.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let gp = UnsafeSendable(weight.value.data), bp = UnsafeSendable(bias.value.data)
        let rm = UnsafeSendable(runningMean.data), rv = UnsafeSendable(runningVar.data)
        let (eps, momentum, relu) = (eps, momentum, relu)
        Engine.parallelRanges(channels) { _, range in
            for c in range {
                var m: Float, r: Float
                if batchStats {
                    var s = 0.0, q = 0.0
                    for i in 0..<n {
                        let (a, b) = sumAndSquares(xp.value + i * chw + c * hw, hw)
                        s += a; q += b
                    }
                    let count = Double(n * hw)
                    let mu = s / count
                    let varBiased = max(q / count - mu * mu, 0)
                    m = Float(mu)
                    r = Float(1 / (varBiased + Double(eps)).squareRoot())
                    rm.value[c] = (1 - momentum) * rm.value[c] + momentum * m
                    rv.value[c] = (1 - momentum) * rv.value[c] + momentum * Float(varBiased * count / (count - 1))
                } else {
                    m = rm.value[c]
                    r = 1 / (rv.value[c] + eps).squareRoot()
                }
                meanP.value[c] = m
                rstdP.value[c] = r
                // y = gamma * (x - mean) * rstd + beta = x * scale + shift
                let scale = gp.value[c] * r, shift = bp.value[c] - m * scale
                for i in 0..<n {
                    let src = xp.value + i * chw + c * hw, dst = yp.value + i * chw + c * hw
                    if relu {
                        for j in 0..<hw { dst[j] = max(src[j] * scale + shift, 0) }
                    } else {
                        for j in 0..<hw { dst[j] = src[j] * scale + shift }
                    }
                }
            }
        }
        if batchStats { numBatchesTracked += 1 }
        return output
    }

    public func backward(_ dy: Tensor) throws -> Tensor {
        guard let x = input else { throw ABLNetError.invalidArgument("\(name): backward before forward") }
        guard dy.shape == x.shape else { throw ABLNetError.shapeMismatch(layer: name + " (backward)", expected: "\(x.shape)", got: dy.shape) }
        let n = x.shape[0], hw = x.shape[2] * x.shape[3], chw = channels * hw
        dx.reshape(to: x.shape)
        let xp = UnsafeSendable(x.data), dyp = UnsafeSendable(dy.data), dxp = UnsafeSendable(dx.data)
        let meanP = UnsafeSendable(mean.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let rstdP = UnsafeSendable(rstd.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let gp = UnsafeSendable(weight.value.data)
        let dg = UnsafeSendable(weight.grad.data), db = UnsafeSendable(bias.grad.data)
        let batchStats = usedBatchStatistics
        // With the fused ReLU, the gradient that reaches the normalisation is dy where y > 0 and
        // 0 elsewhere (`gate`); it is applied on the fly in both passes, never stored.
        let yp = UnsafeSendable(UnsafePointer(output.data)), relu = relu
        Engine.parallelRanges(channels) { _, range in
            for c in range {
                let m = meanP.value[c], r = rstdP.value[c], g = gp.value[c]
                // sums of dy and of dy * x over the channel; dy * xhat follows from them.
                var sdy = 0.0, sdyx = 0.0
                for i in 0..<n {
                    let o = i * chw + c * hw
                    let (a, b) = relu ? gatedSumAndDot(dyp.value + o, yp.value + o, xp.value + o, hw)
                                      : sumAndDot(dyp.value + o, xp.value + o, hw)
                    sdy += a; sdyx += b
                }
                let sdyXhat = Float((sdyx - Double(m) * sdy)) * r   // Σ dy * xhat
                db.value[c] = Float(sdy)
                dg.value[c] = sdyXhat
                if batchStats {
                    // dx = gamma * rstd / M * (M * dy - Σdy - xhat * Σ(dy * xhat)), M = N*H*W
                    let count = Float(n * hw)
                    let a = g * r, meanDy = Float(sdy) / count, k = sdyXhat / count
                    for i in 0..<n {
                        let o = i * chw + c * hw
                        let dst = dxp.value + o, d = dyp.value + o, s = xp.value + o, y = yp.value + o
                        if relu {
                            for j in 0..<hw {
                                let xhat = (s[j] - m) * r
                                dst[j] = a * ((y[j] > 0 ? d[j] : 0) - meanDy - xhat * k)
                            }
                        } else {
                            for j in 0..<hw {
                                let xhat = (s[j] - m) * r
                                dst[j] = a * (d[j] - meanDy - xhat * k)
                            }
                        }
                    }
                } else {
                    // statistics are constants: dx = gamma * rstd * dy
                    let a = g * r
                    for i in 0..<n {
                        let o = i * chw + c * hw
                        let dst = dxp.value + o, d = dyp.value + o, y = yp.value + o
                        if relu {
                            for j in 0..<hw { dst[j] = y[j] > 0 ? a * d[j] : 0 }
                        } else {
                            for j in 0..<hw { dst[j] = a * d[j] }
                        }
                    }
                }
            }
        }
        return dx
    }
}
