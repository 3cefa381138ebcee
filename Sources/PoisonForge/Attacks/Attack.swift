import ABLNet

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

/// What an attack produces.
public struct PoisonedData: Sendable {
    /// The training split with triggers and relabelling applied; `poison` says which samples,
    /// with their original labels and indices.
    public var train: DatasetSplit
    /// The triggered test set for ASR: every test image whose true label differs from its
    /// attack target, with the trigger. `labels` are the attack targets; `poison.originalLabels`
    /// the true labels (used for RA); `poison.originalIndices` the test indices.
    public var triggeredTest: DatasetSplit
}

/// A backdoor attack. The poison stage only talks to this interface, so a new attack plugs in
/// without touching the stages: implement `applyTrigger` (and, for attacks that choose or
/// perturb samples differently, override `poison`).
public protocol Attack: Sendable {
    /// Manifest kind (`badnets`).
    var kind: String { get }
    /// The attack's true name, as reports print it.
    var displayName: String { get }
    var labelKind: LabelKind { get }
    var targetMode: TargetMode { get }
    /// The target class (all-to-one).
    var target: Int { get }
    /// Fraction of the training set (or of the target class, for clean-label attacks whose
    /// manifest says so) that is poisoned.
    var rate: Double { get }

    /// Stamps the trigger onto one HWC uint8 image in place. `index` identifies the image, for
    /// attacks whose trigger varies per image.
    func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int)
}

extension Attack {
    /// The attack target of a sample whose true label is `label`.
    public func targetLabel(for label: Int, classCount: Int) -> Int {
        targetMode == .allToOne ? target : (label + 1) % classCount
    }

    /// Chooses the poisoned training samples (seeded): dirty-label attacks draw from the
    /// samples whose label differs from their target; clean-label ones from the target class.
    public func choosePoisoned(_ train: DatasetSplit, classCount: Int, seed: UInt64) throws -> [Int] {
        let candidates = train.labels.indices.filter {
            labelKind == .dirty ? targetLabel(for: train.labels[$0], classCount: classCount) != train.labels[$0]
                                : train.labels[$0] == target
        }
        let base = labelKind == .dirty ? train.count : candidates.count
        let count = Int((rate * Double(base)).rounded())
        guard count > 0 else { throw DatasetError.invalid("attack.rate \(rate) poisons no sample of \(base)") }
        guard count <= candidates.count else {
            throw DatasetError.invalid("attack.rate \(rate) asks for \(count) poisoned samples but only \(candidates.count) are eligible")
        }
        guard count < train.count else { throw DatasetError.invalid("attack.rate \(rate) leaves no clean training sample") }
        var rng = SeededRNG(seed: seed, stream: "poison-choice-" + kind)
        return rng.permutation(candidates.count).prefix(count).map { candidates[$0] }.sorted()
    }

    /// Poisons the training split and builds the triggered test set.
    public func poison(train: DatasetSplit, test: DatasetSplit, classCount: Int, seed: UInt64) throws -> PoisonedData {
        let chosen = try choosePoisoned(train, classCount: classCount, seed: seed)
        var out = train
        var info = PoisonInfo.clean(labels: train.labels)
        let size = train.sampleSize
        var labels = out.labels
        out.pixels.withUnsafeMutableBufferPointer { px in
            for i in chosen {
                applyTrigger(px.baseAddress! + i * size, height: train.height, width: train.width, channels: train.channels, index: i)
                info.poisoned[i] = true
                if labelKind == .dirty { labels[i] = targetLabel(for: train.labels[i], classCount: classCount) }
            }
        }
        out.labels = labels
        out.poison = info
        return PoisonedData(train: out, triggeredTest: triggered(test, classCount: classCount))
    }

    /// The triggered test set (see `PoisonedData.triggeredTest`).
    public func triggered(_ test: DatasetSplit, classCount: Int) -> DatasetSplit {
        let keep = test.labels.indices.filter { targetLabel(for: test.labels[$0], classCount: classCount) != test.labels[$0] }
        var t = test.subset(keep)
        let (size, h, w, c, n) = (t.sampleSize, t.height, t.width, t.channels, t.count)
        t.pixels.withUnsafeMutableBufferPointer { px in
            for k in 0..<n {
                applyTrigger(px.baseAddress! + k * size, height: h, width: w, channels: c, index: 1_000_000_000 + keep[k])
            }
        }
        t.poison = PoisonInfo(poisoned: Array(repeating: true, count: t.count), originalLabels: t.labels, originalIndices: keep)
        t.labels = t.labels.map { targetLabel(for: $0, classCount: classCount) }
        t.ids = t.ids.map { $0 + "+trigger" }
        return t
    }
}
