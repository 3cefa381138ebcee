import ABLNet

/// The order an epoch visits its samples in.
public enum SampleOrder: Sendable {
    /// A fresh seeded permutation every epoch.
    case shuffled
    /// The given order (the ABL reference's isolation training does not shuffle).
    case fixed
}

/// What one epoch of `Trainer.epoch` trains: the samples, the objective, the learning rate, the
/// augmentation, the order, and the name errors give the epoch (`isolate epoch 3`).
public struct EpochPlan {
    /// Indices into the split; nil means every sample.
    public var samples: [Int]?
    public var objective: Objective
    public var lr: Float
    public var augment: Augmentation
    public var order: SampleOrder
    public var name: String

    public init(samples: [Int]? = nil, objective: Objective, lr: Float, augment: Augmentation = .none, order: SampleOrder = .shuffled, name: String) {
        self.samples = samples; self.objective = objective; self.lr = lr; self.augment = augment; self.order = order; self.name = name
    }
}

/// What one epoch of `Trainer.jointEpoch` trains: descent on `clean`, and `unlearning` with
/// weight `lambda` on `isolated`, in every step.
public struct JointEpochPlan {
    public var clean: [Int]
    public var isolated: [Int]
    public var lambda: Float
    public var unlearning: Objective
    public var lr: Float
    public var augment: Augmentation
    public var order: SampleOrder
    public var name: String

    public init(clean: [Int], isolated: [Int], lambda: Float, unlearning: Objective = .ascent(cap: nil), lr: Float,
                augment: Augmentation = .none, order: SampleOrder = .shuffled, name: String) {
        self.clean = clean; self.isolated = isolated; self.lambda = lambda; self.unlearning = unlearning
        self.lr = lr; self.augment = augment; self.order = order; self.name = name
    }
}
