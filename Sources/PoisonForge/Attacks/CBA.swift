import ABLNet

/// CBA, the composite backdoor (Lin et al. 2020): the trigger is no pixel pattern but the
/// co-occurrence of two existing features. A poisoned image is half of an image of class A
/// joined to half of an image of class B (a vertical or horizontal split chosen at random, the
/// partner's half shifted by up to `jitter` pixels), labelled as the target. Same-class mixes
/// (two images of one class joined the same way, label kept) are added too, so that mixing
/// alone does not mean "target".
///
/// The training set keeps its size: a poisoned sample is an image of class A or B (chosen
/// seeded) whose other half is replaced by a random image of the other class; its original
/// label and index stay recorded. Same-class mixes rewrite `mixRate` of the remaining
/// samples and are not flagged as poisoned (their labels are right). The triggered test set
/// joins test images of A and B; its "true" label (for RA) is the class of the kept half.
public struct CBA: Attack, Sendable {
    public let kind = "cba"
    public let displayName = "CBA (composite)"
    public let labelKind = LabelKind.dirty
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let classA: Int
    public let classB: Int
    /// Share of the training set rewritten as same-class mixes.
    public let mixRate: Double
    /// Largest shift, in pixels, of the partner's half.
    public let jitter: Int

    public init(target: Int, rate: Double, classA: Int, classB: Int, mixRate: Double, jitter: Int) {
        self.target = target
        self.rate = rate
        self.classA = classA
        self.classB = classB
        self.mixRate = mixRate
        self.jitter = jitter
    }

    /// How one composite is made.
    public struct Join: Sendable, Equatable {
        /// true: left | right halves; false: top / bottom halves.
        public var vertical: Bool
        /// Whether the kept image supplies the first (left or top) half.
        public var keptFirst: Bool
        public var dy: Int
        public var dx: Int
    }

    func randomJoin(_ rng: inout SeededRNG) -> Join {
        Join(vertical: rng.int(below: 2) == 0, keptFirst: rng.int(below: 2) == 0,
             dy: jitter > 0 ? rng.int(below: 2 * jitter + 1) - jitter : 0,
             dx: jitter > 0 ? rng.int(below: 2 * jitter + 1) - jitter : 0)
    }

    /// Whether pixel (y, x) comes from the kept image under `join`.
    public static func isKept(y: Int, x: Int, height: Int, width: Int, join: Join) -> Bool {
        let first = join.vertical ? x < width / 2 : y < height / 2
        return first == join.keptFirst
    }

    /// Writes into `kept` (HWC) the partner's half, shifted by the join's jitter (edge pixels
    /// repeated where the shift leaves the image).
    public static func compose(kept: UnsafeMutablePointer<UInt8>, partner: UnsafePointer<UInt8>, height: Int, width: Int, channels: Int, join: Join) {
        for y in 0..<height {
            for x in 0..<width where !isKept(y: y, x: x, height: height, width: width, join: join) {
                let sy = max(0, min(height - 1, y + join.dy)), sx = max(0, min(width - 1, x + join.dx))
                for c in 0..<channels { kept[(y * width + x) * channels + c] = partner[(sy * width + sx) * channels + c] }
            }
        }
    }

    public func poison(train: DatasetSplit, test: DatasetSplit, context: AttackContext) throws -> PoisonedData {
        for (parameter, c) in [(AttackParameterError.Parameter.classA, classA), (.classB, classB)] where c < 0 || c >= context.classCount || c == target {
            throw AttackParameterError(parameter, "\(c) must be a class other than the target (0..<\(context.classCount))")
        }
        guard classA != classB else { throw AttackParameterError(.classB, "must differ from class A") }
        let ofA = train.labels.indices.filter { train.labels[$0] == classA }, ofB = train.labels.indices.filter { train.labels[$0] == classB }
        // a composite joins an image of each class: both must be in the training set
        for (parameter, c, images) in [(AttackParameterError.Parameter.classA, classA, ofA), (.classB, classB, ofB)] where images.isEmpty {
            throw AttackParameterError(parameter, "class \(c) has no training image to compose with")
        }
        let pool = (ofA + ofB).sorted()
        let count = Int((rate * Double(train.count)).rounded())
        guard count > 0 else { throw AttackParameterError(.rate, "\(rate) poisons no sample of \(train.count)") }
        guard count <= pool.count else {
            throw AttackParameterError(.rate, "\(rate) asks for \(count) composites but classes \(classA) and \(classB) hold only \(pool.count) images")
        }
        var rng = SeededRNG(seed: context.seed, stream: "poison-choice-cba")
        let chosen = rng.permutation(pool.count).prefix(count).map { pool[$0] }.sorted()
        let original = train.pixels
        var out = train
        out.poison = PoisonInfo.clean(labels: train.labels)
        let size = train.sampleSize, (h, w, c) = (train.height, train.width, train.channels)
        var joinRNG = SeededRNG(seed: context.seed, stream: "cba-join")
        // Same-class mixes: drawn from the samples not poisoned, every class.
        let chosenSet = Set(chosen)
        let rest = train.labels.indices.filter { !chosenSet.contains($0) }
        let mixCount = min(rest.count - 1, Int((mixRate * Double(train.count)).rounded()))
        let mixed = mixCount > 0 ? rng.permutation(rest.count).prefix(mixCount).map { rest[$0] }.sorted() : []
        var byClass: [Int: [Int]] = [:]
        for i in train.labels.indices { byClass[train.labels[i], default: []].append(i) }
        original.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { px in
                for i in chosen {
                    let partners = train.labels[i] == classA ? ofB : ofA
                    let p = partners[joinRNG.int(below: partners.count)]
                    CBA.compose(kept: px.baseAddress! + i * size, partner: src.baseAddress! + p * size, height: h, width: w, channels: c, join: randomJoin(&joinRNG))
                }
                for i in mixed {
                    let same = byClass[train.labels[i]]!
                    var p = same[joinRNG.int(below: same.count)]
                    if p == i && same.count > 1 { p = same[(same.firstIndex(of: i)! + 1) % same.count] }
                    CBA.compose(kept: px.baseAddress! + i * size, partner: src.baseAddress! + p * size, height: h, width: w, channels: c, join: randomJoin(&joinRNG))
                }
            }
        }
        markPoisoned(&out, chosen, classCount: context.classCount)
        // Triggered test set: every test image of A joined to a random test image of B.
        let testA = test.labels.indices.filter { test.labels[$0] == classA }, testB = test.labels.indices.filter { test.labels[$0] == classB }
        guard !testA.isEmpty, !testB.isEmpty else {
            throw DatasetError.invalid("the test set has no image of class \(testA.isEmpty ? classA : classB): CBA's triggered test set needs both")
        }
        var t = test.subset(testA)
        var testRNG = SeededRNG(seed: context.seed, stream: "cba-test")
        let n = t.count
        test.pixels.withUnsafeBufferPointer { src in
            t.pixels.withUnsafeMutableBufferPointer { px in
                for k in 0..<n {
                    let p = testB[testRNG.int(below: testB.count)]
                    CBA.compose(kept: px.baseAddress! + k * size, partner: src.baseAddress! + p * size, height: h, width: w, channels: c, join: randomJoin(&testRNG))
                }
            }
        }
        t.poison = PoisonInfo(poisoned: Array(repeating: true, count: t.count), originalLabels: t.labels, originalIndices: testA)
        t.labels = Array(repeating: target, count: t.count)
        t.ids = t.ids.map { $0 + "+cba" }
        return PoisonedData(train: out, triggeredTest: t, details: [
            "class_a": .number(Double(classA)), "class_b": .number(Double(classB)),
            "same_class_mixes": .number(Double(mixed.count)),
        ])
    }
}
