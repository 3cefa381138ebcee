import ABLNet
import CanonicalJSON

/// Whether poisoned training samples are relabelled to the target (dirty) or keep their label
/// and are drawn from the target class (clean).
public enum LabelKind: String, Sendable {
    case dirty
    case clean
}

/// How targets are assigned: every poisoned sample to one class, or class y to (y + 1) mod K.
public enum TargetMode: String, Sendable {
    case allToOne = "all-to-one"
    case allToAll = "all-to-all"
}

/// What an attack's `rate` is a fraction of. Toolboxes differ here (BackdoorBench counts the
/// whole training set, the label-consistent paper counts the target class), so it is explicit.
public enum RateBase: String, Sendable, CaseIterable {
    /// `rate` x training-set size samples are poisoned.
    case trainingSet = "training-set"
    /// `rate` x target-class size samples are poisoned (clean-label attacks only).
    case targetClass = "target-class"
}

/// What an attack produces.
public struct PoisonedData {
    /// The training split with triggers and relabelling applied; `poison` says which samples,
    /// with their original labels and indices.
    public var train: DatasetSplit
    /// The triggered test set for ASR: every test image whose true label differs from its
    /// attack target, with the trigger. `labels` are the attack targets; `poison.originalLabels`
    /// the true labels (used for RA); `poison.originalIndices` the test indices.
    public var triggeredTest: DatasetSplit
    /// Facts about the attack worth reporting (optimised trigger statistics, surrogate
    /// success rates, chosen neurons); written into `attack.json`.
    public var details: [String: JSON] = [:]

    public init(train: DatasetSplit, triggeredTest: DatasetSplit, details: [String: JSON] = [:]) {
        self.train = train
        self.triggeredTest = triggeredTest
        self.details = details
    }
}

/// What an attack may use while it poisons.
public struct AttackContext {
    public var classCount: Int
    public var seed: UInt64
    /// A clean model trained by the surrogate stage (attacks with `needsSurrogate`).
    public var surrogate: Network?
    /// Progress messages.
    public var log: (String) -> Void
    /// The ranks of a data-parallel run: attacks that optimise each image (CL, FC) split the
    /// images over them (`ChunkShare`); the others run whole on every rank.
    public var group: any Collective

    public init(classCount: Int, seed: UInt64, surrogate: Network? = nil, group: any Collective = SingleProcess(),
                log: @escaping (String) -> Void = { _ in }) {
        self.classCount = classCount
        self.seed = seed
        self.surrogate = surrogate
        self.group = group
        self.log = log
    }

    /// The surrogate, or an error naming the attack that needs it.
    public func requireSurrogate(_ attack: String) throws -> Network {
        guard let s = surrogate else { throw DatasetError.invalid("\(attack) needs a surrogate model, and none was given") }
        return s
    }
}

/// A backdoor attack. The poison stage only talks to this interface, so a new attack plugs in
/// without touching the stages. Attacks whose trigger is a fixed function of the image
/// conform to `TriggerAttack` and only implement `applyTrigger`.
public protocol Attack {
    /// Manifest kind (`badnets`).
    var kind: String { get }
    /// The attack's true name, as reports print it (a simplified variant says so).
    var displayName: String { get }
    var labelKind: LabelKind { get }
    var targetMode: TargetMode { get }
    /// The target class (all-to-one).
    var target: Int { get }
    /// Fraction of `rateBase` that is poisoned.
    var rate: Double { get }
    /// What `rate` counts.
    var rateBase: RateBase { get }
    /// Whether `poison` needs `context.surrogate`.
    var needsSurrogate: Bool { get }

    /// Poisons the training split and builds the triggered test set.
    func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData
}

/// An attack whose trigger is stamped onto an image by a fixed function.
public protocol TriggerAttack: Attack {
    /// Stamps the trigger onto one HWC uint8 image in place. `index` identifies the image, for
    /// attacks whose trigger varies per image.
    func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int)
}

extension Attack {
    public var rateBase: RateBase { .trainingSet }
    public var needsSurrogate: Bool { false }

    /// The attack target of a sample whose true label is `label`.
    public func targetLabel(for label: Int, classCount: Int) -> Int {
        targetMode == .allToOne ? target : (label + 1) % classCount
    }

    /// Poisons without a surrogate (attacks that need none).
    public func poison(train: DatasetSplit, test: DatasetSplit, classCount: Int, seed: UInt64) throws -> PoisonedData {
        try poison(train: train, test: test, context: AttackContext(classCount: classCount, seed: seed))
    }

    /// Chooses the poisoned training samples (seeded): dirty-label attacks draw from the
    /// samples whose label differs from their target; clean-label ones from the target class.
    public func choosePoisoned(_ train: DatasetSplit, classCount: Int, seed: UInt64) throws -> [Int] {
        let candidates = train.labels.indices.filter {
            labelKind == .dirty ? targetLabel(for: train.labels[$0], classCount: classCount) != train.labels[$0]
                                : train.labels[$0] == target
        }
        let base = rateBase == .trainingSet ? train.count : candidates.count
        let count = Int((rate * Double(base)).rounded())
        guard count > 0 else { throw AttackParameterError(.rate, "\(rate) poisons no sample of \(base) (\(rateBase.rawValue))") }
        guard count <= candidates.count else {
            throw AttackParameterError(.rate, "\(rate) of the \(rateBase.rawValue) asks for \(count) poisoned samples but only \(candidates.count) are eligible")
        }
        guard count < train.count else { throw AttackParameterError(.rate, "\(rate) leaves no clean training sample") }
        var rng = SeededRNG(seed: seed, stream: "poison-choice-" + kind)
        return rng.permutation(candidates.count).prefix(count).map { candidates[$0] }.sorted()
    }

    /// The common poisoning recipe: choose the samples, stamp `trigger` on each, relabel them
    /// (dirty-label), and build the triggered test set with the same function.
    public func stampPoison(train: DatasetSplit, test: DatasetSplit, context: AttackContext,
                            trigger: (UnsafeMutablePointer<UInt8>, Int, Int, Int, Int) -> Void) throws -> PoisonedData {
        let chosen = try choosePoisoned(train, classCount: context.classCount, seed: context.seed)
        var out = train
        out.poison = PoisonInfo.clean(labels: train.labels)
        let size = train.sampleSize
        out.pixels.withUnsafeMutableBufferPointer { px in
            for i in chosen { trigger(px.baseAddress! + i * size, train.height, train.width, train.channels, i) }
        }
        markPoisoned(&out, chosen, classCount: context.classCount)
        return PoisonedData(train: out, triggeredTest: stampTriggered(test, classCount: context.classCount, trigger: trigger))
    }

    /// Flags `chosen` as poisoned (original labels kept in `poison`) and relabels them for
    /// dirty-label attacks.
    public func markPoisoned(_ split: inout DatasetSplit, _ chosen: [Int], classCount: Int) {
        var info = split.poison ?? PoisonInfo.clean(labels: split.labels)
        for i in chosen {
            info.poisoned[i] = true
            if labelKind == .dirty { split.labels[i] = targetLabel(for: info.originalLabels[i], classCount: classCount) }
        }
        split.poison = info
    }

    /// The triggered test set (see `PoisonedData.triggeredTest`): the non-target test images
    /// with `trigger` applied (index 1_000_000_000 + test index, for per-image triggers).
    public func stampTriggered(_ test: DatasetSplit, classCount: Int,
                               trigger: (UnsafeMutablePointer<UInt8>, Int, Int, Int, Int) -> Void) -> DatasetSplit {
        var t = triggerCandidates(test, classCount: classCount)
        let keep = t.poison!.originalIndices
        let (size, h, w, c, n) = (t.sampleSize, t.height, t.width, t.channels, t.count)
        t.pixels.withUnsafeMutableBufferPointer { px in
            for k in 0..<n { trigger(px.baseAddress! + k * size, h, w, c, 1_000_000_000 + keep[k]) }
        }
        return t
    }

    /// The non-target test images, labelled with their attack targets and flagged, before any
    /// trigger is applied.
    public func triggerCandidates(_ test: DatasetSplit, classCount: Int) -> DatasetSplit {
        let keep = test.labels.indices.filter { targetLabel(for: test.labels[$0], classCount: classCount) != test.labels[$0] }
        var t = test.subset(keep)
        t.poison = PoisonInfo(poisoned: Array(repeating: true, count: t.count), originalLabels: t.labels, originalIndices: keep)
        t.labels = t.labels.map { targetLabel(for: $0, classCount: classCount) }
        t.ids = t.ids.map { $0 + "+trigger" }
        return t
    }
}

extension TriggerAttack {
    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        try stampPoison(train: train, test: test, context: context, trigger: applyTrigger)
    }

    /// The triggered test set (see `PoisonedData.triggeredTest`).
    public func triggered(_ test: DatasetSplit, classCount: Int) -> DatasetSplit {
        stampTriggered(test, classCount: classCount, trigger: applyTrigger)
    }
}
