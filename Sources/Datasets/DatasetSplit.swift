/// Per-sample poison bookkeeping, carried by a split once an attack has touched it.
public struct PoisonInfo: Equatable, Sendable {
    /// Whether sample i carries a trigger (or a clean-label perturbation).
    public var poisoned: [Bool]
    /// The label sample i had before the attack.
    public var originalLabels: [Int]
    /// The index sample i had in the split the attack read.
    public var originalIndices: [Int]

    public init(poisoned: [Bool], originalLabels: [Int], originalIndices: [Int]) {
        self.poisoned = poisoned
        self.originalLabels = originalLabels
        self.originalIndices = originalIndices
    }

    /// All samples clean, in their original places, with the given labels.
    public static func clean(labels: [Int]) -> PoisonInfo {
        PoisonInfo(poisoned: Array(repeating: false, count: labels.count),
                   originalLabels: labels, originalIndices: Array(0..<labels.count))
    }
}

/// One split (train or test) of an image dataset, held in memory.
///
/// Pixels are uint8 in `N x H x W x C` order (C = 1 or 3). Each sample has a stable `id` and a
/// provenance: the source file it came from (`sources[sourceOf[i]]`) and, for container formats
/// (IDX, CIFAR batches), its record index inside that file (`sourceIndex[i]`, -1 for a file per image).
public struct DatasetSplit: Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    /// `count * height * width * channels` bytes, sample-major, HWC inside a sample.
    public var pixels: [UInt8]
    public var labels: [Int]
    public var ids: [String]
    /// Distinct source files (paths as given).
    public var sources: [String]
    /// Index into `sources` per sample.
    public var sourceOf: [Int]
    /// Record index inside the source file per sample; -1 when the file holds one image.
    public var sourceIndex: [Int]
    /// Poison metadata, when an attack produced this split.
    public var poison: PoisonInfo?

    public init(height: Int, width: Int, channels: Int, pixels: [UInt8], labels: [Int], ids: [String],
                sources: [String], sourceOf: [Int], sourceIndex: [Int], poison: PoisonInfo? = nil) {
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
        self.ids = ids
        self.sources = sources
        self.sourceOf = sourceOf
        self.sourceIndex = sourceIndex
        self.poison = poison
    }

    /// Number of samples.
    public var count: Int { labels.count }
    /// Bytes per sample (`H * W * C`).
    public var sampleSize: Int { height * width * channels }
    /// Shape string as used in reports, `CxHxW` (for example `1x28x28`).
    public var shapeString: String { "\(channels)x\(height)x\(width)" }

    /// Human-readable provenance of sample i: `file` or `file#index`.
    public func provenance(_ i: Int) -> String {
        let file = sources[sourceOf[i]]
        return sourceIndex[i] >= 0 ? "\(file)#\(sourceIndex[i])" : file
    }

    /// The pixels of sample i.
    public func image(_ i: Int) -> ArraySlice<UInt8> {
        pixels[(i * sampleSize)..<((i + 1) * sampleSize)]
    }

    /// Checks that every per-sample array has `count` entries and the pixels fill `N*H*W*C`.
    public func validate(name: String, classCount: Int) throws {
        let n = count
        guard channels == 1 || channels == 3 else {
            throw DatasetError.invalid("\(name): channels must be 1 or 3, found \(channels)")
        }
        guard height > 0, width > 0 else { throw DatasetError.invalid("\(name): empty image size") }
        // sides within 1...65536 keep every product below Int's range, so sampleSize cannot trap
        guard height <= 1 << 16, width <= 1 << 16 else { throw DatasetError.invalid("\(name): image size \(height)x\(width) is beyond 65536 pixels a side") }
        guard pixels.count == n * sampleSize else {
            throw DatasetError.invalid("\(name): \(pixels.count) pixel bytes for \(n) samples of \(shapeString)")
        }
        guard ids.count == n, sourceOf.count == n, sourceIndex.count == n else {
            throw DatasetError.invalid("\(name): per-sample metadata does not have \(n) entries")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw DatasetError.invalid("\(name): label \(bad) is not a class (0..<\(classCount))")
        }
        if let bad = sourceOf.first(where: { $0 < 0 || $0 >= sources.count }) {
            throw DatasetError.invalid("\(name): source reference \(bad) out of range")
        }
        if let p = poison {
            guard p.poisoned.count == n, p.originalLabels.count == n, p.originalIndices.count == n else {
                throw DatasetError.invalid("\(name): poison metadata does not have \(n) entries")
            }
        }
    }

    /// A new split holding the samples at `indices`, in that order (metadata follows them).
    public func subset(_ indices: [Int]) -> DatasetSplit {
        let s = sampleSize
        var px = [UInt8](repeating: 0, count: indices.count * s)
        px.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    UnsafeMutableRawPointer(dst.baseAddress! + k * s)
                        .copyMemory(from: src.baseAddress! + i * s, byteCount: s)
                }
            }
        }
        var out = DatasetSplit(height: height, width: width, channels: channels, pixels: px,
                               labels: indices.map { labels[$0] }, ids: indices.map { ids[$0] },
                               sources: sources, sourceOf: indices.map { sourceOf[$0] },
                               sourceIndex: indices.map { sourceIndex[$0] })
        if let p = poison {
            out.poison = PoisonInfo(poisoned: indices.map { p.poisoned[$0] },
                                    originalLabels: indices.map { p.originalLabels[$0] },
                                    originalIndices: indices.map { p.originalIndices[$0] })
        }
        return out
    }
}

/// Where the training samples sit among the rows the user gave, when a reader split one set of
/// rows into train and test (`test_ratio`): a user's per-row file (a poison indicator) is by
/// those rows, not by the training split's.
public struct GivenRows: Equatable, Sendable {
    /// How many rows were given (train and test together).
    public var count: Int
    /// Each training sample's row among them.
    public var trainRows: [Int]

    public init(count: Int, trainRows: [Int]) {
        self.count = count
        self.trainRows = trainRows
    }
}

/// An image classification dataset: class names and a train and a test split.
public struct Dataset: Equatable, Sendable {
    public var name: String
    public var classNames: [String]
    public var train: DatasetSplit
    public var test: DatasetSplit
    /// Set when the training split was drawn from a larger set of given rows; nil when the
    /// training rows are the rows as given.
    public var givenRows: GivenRows?

    public init(name: String, classNames: [String], train: DatasetSplit, test: DatasetSplit, givenRows: GivenRows? = nil) {
        self.name = name
        self.classNames = classNames
        self.train = train
        self.test = test
        self.givenRows = givenRows
    }

    /// Checks both splits and that they share an image shape.
    public func validate() throws {
        guard !classNames.isEmpty else { throw DatasetError.invalid("dataset \(name): no classes") }
        try train.validate(name: "\(name) train", classCount: classNames.count)
        try test.validate(name: "\(name) test", classCount: classNames.count)
        guard train.height == test.height, train.width == test.width, train.channels == test.channels else {
            throw DatasetError.invalid("dataset \(name): train is \(train.shapeString) but test is \(test.shapeString)")
        }
    }
}
