import ABLNet
import Foundation

/// A dataset given as four `.npy` files, as numpy saves them: images uint8 `N,H,W` (gray) or
/// `N,H,W,C` (C = 1 or 3), labels of any integer dtype, shape `N` or `N,1`.
public enum NPYDatasetReader {
    /// One split: images and labels checked against each other.
    static func split(images imagesPath: String, labels labelsPath: String, idPrefix: String) throws -> DatasetSplit {
        var split = try images(imagesPath, idPrefix: idPrefix)
        let labels = try labels(labelsPath)
        guard labels.count == split.count else {
            throw DatasetError.shapeMismatch(path: labelsPath, reason: "\(labels.count) labels for \(split.count) images in \(imagesPath)")
        }
        split.labels = labels
        split.sources.append(labelsPath)
        return split
    }

    /// Labels: one integer per image (any integer dtype), shape N or N,1.
    public static func labels(_ path: String) throws -> [Int] {
        let a = try NPY.readAny(path)
        guard a.shape.count == 1 || (a.shape.count == 2 && a.shape[1] == 1) else {
            throw DatasetError.shapeMismatch(path: path, reason: "shape \(a.shape): labels must be one integer per image, shape N or N,1")
        }
        guard a.element.kind != .bool else {
            throw DatasetError.badFormat(path: path, reason: "holds booleans; labels must be class numbers of an integer dtype")
        }
        return try a.integers()
    }

    /// Images alone (labels all 0 until set), checked: uint8, N,H,W or N,H,W,C with C = 1 or 3.
    public static func images(_ imagesPath: String, idPrefix: String) throws -> DatasetSplit {
        let images = try NPY.readAny(imagesPath)
        guard images.element.kind == .unsigned, images.element.size == 1 else {
            let hint = images.element.kind == .float ? " (for values in [0, 1]: (x * 255).round().astype(np.uint8))" : " (np.clip(x, 0, 255).astype(np.uint8))"
            throw DatasetError.badFormat(path: imagesPath, reason: "images must be uint8, this file holds \(images.element.name)" + hint)
        }
        let s = images.shape
        let n: Int, h: Int, w: Int, c: Int
        switch s.count {
        case 3: (n, h, w, c) = (s[0], s[1], s[2], 1)
        case 4:
            guard s[3] == 1 || s[3] == 3 else {
                let hint = (s[1] == 1 || s[1] == 3) ? "; it looks channel-first (N,C,H,W): np.transpose(x, (0, 2, 3, 1))" : ""
                throw DatasetError.shapeMismatch(path: imagesPath, reason: "shape \(s): images must be N,H,W or N,H,W,C with C = 1 or 3\(hint)")
            }
            (n, h, w, c) = (s[0], s[1], s[2], s[3])
        default:
            throw DatasetError.shapeMismatch(path: imagesPath, reason: "shape \(s): images must be N,H,W or N,H,W,C with C = 1 or 3")
        }
        guard n > 0 else { throw DatasetError.badFormat(path: imagesPath, reason: "holds no image") }
        guard h > 0, w > 0, h <= 4096, w <= 4096 else {
            throw DatasetError.shapeMismatch(path: imagesPath, reason: "images of \(w)x\(h) pixels: each side must be 1 to 4096")
        }
        return DatasetSplit(height: h, width: w, channels: c, pixels: [UInt8](images.data), labels: Array(repeating: 0, count: n),
                            ids: (0..<n).map { "\(idPrefix)-\($0)" }, sources: [imagesPath],
                            sourceOf: Array(repeating: 0, count: n), sourceIndex: Array(0..<n))
    }

    /// Where the test split comes from.
    public enum TestSplit: Sendable {
        /// A test pair of `.npy` files.
        case files(images: String, labels: String)
        /// `round(ratio * n)` of each class's training rows, chosen by a seeded shuffle.
        case share(ratio: Double, seed: UInt64)
    }

    /// The dataset: both splits of one image size and channel count, labels checked as for IDX
    /// (classes 0..<k, each with training images; every test label a training class).
    public static func read(trainImages: String, trainLabels: String, test testSource: TestSplit,
                            classNames: [String]?, name: String) throws -> Dataset {
        let all = try split(images: trainImages, labels: trainLabels, idPrefix: "train")
        switch testSource {
        case .files(let testImages, let testLabels):
            let test = try split(images: testImages, labels: testLabels, idPrefix: "test")
            guard all.height == test.height, all.width == test.width, all.channels == test.channels else {
                throw DatasetError.shapeMismatch(path: testImages, reason: "test images are \(test.shapeString) (CxHxW), training images \(all.shapeString) in \(trainImages)")
            }
            let names = try DatasetSource.idxClassNames(classNames, trainLabels: all.labels, trainPath: trainLabels,
                                                        testLabels: test.labels, testPath: testLabels)
            return Dataset(name: name, classNames: names, train: all, test: test)
        case .share(let ratio, let seed):
            let names = try DatasetSource.idxClassNames(classNames, trainLabels: all.labels, trainPath: trainLabels, testLabels: [], testPath: trainLabels)
            var rng = SeededRNG(seed: seed, stream: "npy-split")
            var trainRows: [Int] = [], testRows: [Int] = []
            for c in 0..<names.count {
                let rows = all.labels.indices.filter { all.labels[$0] == c }
                let perm = rng.permutation(rows.count)
                let nTest = Int((ratio * Double(rows.count)).rounded())
                testRows += perm.prefix(nTest).map { rows[$0] }
                trainRows += perm.dropFirst(nTest).map { rows[$0] }
            }
            guard !trainRows.isEmpty, !testRows.isEmpty else {
                throw DatasetError.invalid("\(trainImages): test_ratio \(ratio) leaves an empty train or test split")
            }
            // rows keep their order in the file, and their ids and provenance name the file's row
            var test = all.subset(testRows.sorted())
            test.ids = test.sourceIndex.map { "train-\($0)" }
            trainRows.sort()
            return Dataset(name: name, classNames: names, train: all.subset(trainRows), test: test,
                           givenRows: GivenRows(count: all.count, trainRows: trainRows))
        }
    }
}

/// Which training samples the user knows to be poisoned: a `.npy` of one boolean per training
/// image, or of the poisoned rows' indices (any integer dtype), by row as given (before a
/// `test_ratio` split: `trainCount` is then every given row).
public enum PoisonIndicator {
    public static func read(_ path: String, trainCount n: Int) throws -> [Bool] {
        let a = try NPY.readAny(path)
        guard a.shape.count == 1 else {
            throw DatasetError.shapeMismatch(path: path, reason: "shape \(a.shape): expected one flag per training image (N booleans) or a list of row indices")
        }
        if a.element.kind == .bool {
            guard a.count == n else { throw DatasetError.shapeMismatch(path: path, reason: "\(a.count) flags for \(n) training images") }
            return a.data.map { $0 != 0 }
        }
        var flags = [Bool](repeating: false, count: n)
        for i in try a.integers() {
            guard i >= 0, i < n else { throw DatasetError.badFormat(path: path, reason: "index \(i) is not a training row (0..<\(n))") }
            guard !flags[i] else { throw DatasetError.badFormat(path: path, reason: "index \(i) is listed twice") }
            flags[i] = true
        }
        return flags
    }
}
