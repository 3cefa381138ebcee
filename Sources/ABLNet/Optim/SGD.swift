/// Stochastic gradient descent with momentum, Nesterov and weight decay, with PyTorch's update
/// rule (`torch.optim.SGD`, dampening 0):
///
///     g = grad + weight_decay * p
///     buf = g                      on the first step, else  buf = momentum * buf + g
///     g = g + momentum * buf       with Nesterov,           else  g = buf
///     p = p - lr * g
public final class SGD {
    public var lr: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let parameters: [Parameter]

    public init(parameters: [Parameter], lr: Float, momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 1e-4) {
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step() {
        for p in parameters {
            let n = p.value.count, w = p.value.data, g = p.grad.data
            if momentum == 0 {
                for i in 0..<n { w[i] -= lr * (g[i] + weightDecay * w[i]) }
                continue
            }
            let first = p.momentum == nil
            if first { p.momentum = Tensor(shape: p.value.shape) }
            let buf = p.momentum!.data
            for i in 0..<n {
                let d = g[i] + weightDecay * w[i]
                buf[i] = first ? d : momentum * buf[i] + d
                w[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i])
            }
        }
    }
}

/// Learning rate per epoch (0-based epochs).
public enum LRSchedule: Sendable, Equatable {
    case constant(Float)
    /// lr * gamma^(epoch / every)
    case step(base: Float, every: Int, gamma: Float)
    /// lr * gamma^(number of milestones <= epoch), as `MultiStepLR`.
    case multiStep(base: Float, milestones: [Int], gamma: Float)

    public func lr(epoch: Int) -> Float {
        switch self {
        case .constant(let v): return v
        case .step(let b, let every, let g): return b * powf(g, Float(epoch / max(every, 1)))
        case .multiStep(let b, let ms, let g): return b * powf(g, Float(ms.filter { $0 <= epoch }.count))
        }
    }
}

import Foundation
