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
    /// How this layer runs (its per-channel loops are split over `engine.workers`): its network's.
    public let engine: EngineSettings

    private var input: Tensor?
    private let output = Tensor(shape: [0])
    /// The shape of the last forward's input (`Benchmark.layers` times each shape alone).
    var lastInputShape: [Int]? { input?.shape }
    private let dx = Tensor(shape: [0])
    private var mean: [Float]
    private var rstd: [Float]           // 1 / sqrt(var + eps) used by the last forward
    private var usedBatchStatistics = false
    /// Per-channel sums of the last pass ((2C + 1): Σ, Σ of squares or products, count) and the
    /// number of values per channel behind the batch statistics (over every rank).
    private var sums: [Double]
    private var batchCount = 0.0
    /// The ranks that share each training batch: batch statistics and their gradients are then
    /// summed over them (synchronised BatchNorm). nil: this process's batch alone.
    public var collective: (any Collective)?

    public init(name: String, channels: Int, relu: Bool = false, engine: EngineSettings) {
        self.name = name
        self.engine = engine
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
        sums = Array(repeating: 0, count: 2 * channels + 1)
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
        let xp = UnsafeSendable(x.data), yp = UnsafeSendable(output.data)
        if batchStats {
            // Σx and Σx² per channel over (N, H, W), and the count, summed over every rank
            // when the batch is sharded: the statistics are those of the global batch.
            let C = channels
            sums.withUnsafeMutableBufferPointer { sp in
                let st = UnsafeSendable(sp.baseAddress!)
                engine.parallelRanges(C) { _, range in
                    for c in range {
                        var s = 0.0, q = 0.0
                        for i in 0..<n {
                            let (a, b) = sumAndSquares(xp.value + i * chw + c * hw, hw)
                            s += a; q += b
                        }
                        st.value[c] = s; st.value[C + c] = q
                    }
                }
                st.value[2 * C] = Double(n * hw)
                if let group = collective, group.isDistributed { group.sum(sp) }
            }
            batchCount = sums[2 * C]
            if batchCount < 2 {
                throw ABLNetError.invalidArgument("\(name): batch statistics need more than one value per channel (got \(x.shape))")
            }
        }
        let meanP = UnsafeSendable(mean.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let rstdP = UnsafeSendable(rstd.withUnsafeMutableBufferPointer { $0.baseAddress! })
        let st = UnsafeSendable(UnsafePointer(sums.withUnsafeMutableBufferPointer { $0.baseAddress! }))
        let gp = UnsafeSendable(weight.value.data), bp = UnsafeSendable(bias.value.data)
        let rm = UnsafeSendable(runningMean.data), rv = UnsafeSendable(runningVar.data)
        let (eps, momentum, relu, count, C) = (eps, momentum, relu, batchCount, channels)
        engine.parallelRanges(channels) { _, range in
            for c in range {
                var m: Float, r: Float
                if batchStats {
                    let mu = st.value[c] / count
                    let varBiased = max(st.value[C + c] / count - mu * mu, 0)
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
        let batchStats = usedBatchStatistics, C = channels
        // With the fused ReLU, the gradient that reaches the normalisation is dy where y > 0 and
        // 0 elsewhere (`gate`); it is applied on the fly in both passes, never stored.
        let yp = UnsafeSendable(UnsafePointer(output.data)), relu = relu
        // sums of dy and of dy * x per channel; dy * xhat follows from them. dgamma and dbeta
        // are this rank's share (the gradient sum over ranks adds the shares); dx needs the
        // global batch's sums, since every sample moved the statistics.
        sums.withUnsafeMutableBufferPointer { sp in
            let st = UnsafeSendable(sp.baseAddress!)
            engine.parallelRanges(C) { _, range in
                for c in range {
                    let m = meanP.value[c], r = rstdP.value[c]
                    var sdy = 0.0, sdyx = 0.0
                    for i in 0..<n {
                        let o = i * chw + c * hw
                        let (a, b) = relu ? gatedSumAndDot(dyp.value + o, yp.value + o, xp.value + o, hw)
                                          : sumAndDot(dyp.value + o, xp.value + o, hw)
                        sdy += a; sdyx += b
                    }
                    db.value[c] = Float(sdy)
                    dg.value[c] = Float((sdyx - Double(m) * sdy)) * r   // Σ dy * xhat
                    st.value[c] = sdy; st.value[C + c] = sdyx
                }
            }
            if batchStats, let group = collective, group.isDistributed {
                group.sum(UnsafeMutableBufferPointer(rebasing: sp[0..<(2 * C)]))
            }
        }
        let st = UnsafeSendable(UnsafePointer(sums.withUnsafeMutableBufferPointer { $0.baseAddress! }))
        let count = Float(batchCount)
        engine.parallelRanges(channels) { _, range in
            for c in range {
                let m = meanP.value[c], r = rstdP.value[c], g = gp.value[c]
                if batchStats {
                    // dx = gamma * rstd / M * (M * dy - Σdy - xhat * Σ(dy * xhat)), M = N*H*W over every rank
                    let sdy = st.value[c], sdyXhat = Float((st.value[C + c] - Double(m) * sdy)) * r
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
