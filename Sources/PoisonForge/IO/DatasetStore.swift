import ABLNet
import CanonicalJSON
import Foundation

/// The on-disk form of a dataset between stages: one `.npy` per array plus `dataset.json`.
///
/// Files, for each split S in `train`, `test`:
/// - `S_images.npy`  uint8 `(N, H, W, C)`
/// - `S_labels.npy`  int64 `(N,)`
/// - `S_source_index.npy` int64 `(N,)`: record index in the source file, -1 for one file per image
/// - `S_source_of.npy` int64 `(N,)`: index into the split's `sources` list in `dataset.json`
/// - when poisoned: `S_poisoned.npy` bool, `S_original_labels.npy` int64, `S_original_indices.npy` int64
/// `dataset.json` holds the name, class names, shape, and per split the ids and source files.
public enum DatasetStore {
    public static let formatVersion = 1

    /// The file names `write` produces for a dataset, in a stable order.
    public static func fileNames(poisonedSplits: [String]) -> [String] {
        var names = ["dataset.json"]
        for s in ["train", "test"] {
            names += ["\(s)_images.npy", "\(s)_labels.npy", "\(s)_source_index.npy", "\(s)_source_of.npy"]
            if poisonedSplits.contains(s) {
                names += ["\(s)_poisoned.npy", "\(s)_original_labels.npy", "\(s)_original_indices.npy"]
            }
        }
        return names
    }

    /// Writes `dataset` into `folder` (which must exist). Returns the file names written.
    @discardableResult
    public static func write(_ dataset: Dataset, to folder: String) throws -> [String] {
        try dataset.validate()
        var meta: [String: JSON] = [
            "format": .string("abl-dataset"),
            "format_version": .number(Double(formatVersion)),
            "name": .string(dataset.name),
            "class_names": .array(dataset.classNames.map(JSON.string)),
            "height": .number(Double(dataset.train.height)),
            "width": .number(Double(dataset.train.width)),
            "channels": .number(Double(dataset.train.channels)),
        ]
        var splits: [String: JSON] = [:]
        var poisoned: [String] = []
        for (name, s) in [("train", dataset.train), ("test", dataset.test)] {
            try writeArrays(s, prefix: name, to: folder)
            if s.poison != nil { poisoned.append(name) }
            splits[name] = .object([
                "count": .number(Double(s.count)),
                "ids": .array(s.ids.map(JSON.string)),
                "sources": .array(s.sources.map(JSON.string)),
                "poison_metadata": .bool(s.poison != nil),
            ])
        }
        meta["splits"] = .object(splits)
        try AtomicFile.write(Data(JSON.object(meta).canonical.utf8), to: "\(folder)/dataset.json")
        return fileNames(poisonedSplits: poisoned)
    }

    /// Reads a dataset folder written by `write`, checking every array against `dataset.json`.
    public static func read(from folder: String) throws -> Dataset {
        let metaPath = "\(folder)/dataset.json"
        let bytes = try InputFile.dataset(metaPath)
        let meta: JSON
        do { meta = try JSON.parse(bytes: bytes) } catch {
            throw DatasetError.badFormat(path: metaPath, reason: "invalid JSON: \(error)")
        }
        guard meta["format"]?.stringValue == "abl-dataset", let version = meta["format_version"]?.intValue else {
            throw DatasetError.badFormat(path: metaPath, reason: "not an abl-dataset metadata file")
        }
        guard version == formatVersion else {
            throw DatasetError.badFormat(path: metaPath, reason: "format version \(version), this build reads \(formatVersion)")
        }
        guard let name = meta["name"]?.stringValue,
              let classes = meta["class_names"]?.arrayValue?.compactMap(\.stringValue),
              let h = meta["height"]?.intValue, let w = meta["width"]?.intValue, let c = meta["channels"]?.intValue else {
            throw DatasetError.badFormat(path: metaPath, reason: "missing name, class_names or shape")
        }
        func split(_ s: String) throws -> DatasetSplit {
            guard let m = meta["splits"]?[s], let n = m["count"]?.intValue,
                  let ids = m["ids"]?.arrayValue?.compactMap(\.stringValue),
                  let sources = m["sources"]?.arrayValue?.compactMap(\.stringValue) else {
                throw DatasetError.badFormat(path: metaPath, reason: "missing split \(s)")
            }
            return try readArrays(prefix: s, count: n, height: h, width: w, channels: c, ids: ids, sources: sources,
                                  poisoned: m["poison_metadata"]?.boolValue == true, from: folder)
        }
        let ds = Dataset(name: name, classNames: classes, train: try split("train"), test: try split("test"))
        do { try ds.validate() } catch { throw DatasetError.badFormat(path: folder, reason: "\(error)") }
        return ds
    }
}

extension DatasetStore {
    /// Writes one split as `<name>_*.npy` plus `<name>.json` (ids, sources, class names).
    @discardableResult
    public static func writeSplit(_ s: DatasetSplit, name: String, classNames: [String], to folder: String) throws -> [String] {
        try s.validate(name: name, classCount: classNames.count)
        try writeArrays(s, prefix: name, to: folder)
        var files = ["\(name).json", "\(name)_images.npy", "\(name)_labels.npy", "\(name)_source_index.npy", "\(name)_source_of.npy"]
        if s.poison != nil { files += ["\(name)_poisoned.npy", "\(name)_original_labels.npy", "\(name)_original_indices.npy"] }
        let meta = JSON.object([
            "format": .string("abl-split"), "format_version": .number(Double(formatVersion)),
            "class_names": .array(classNames.map(JSON.string)), "count": .number(Double(s.count)),
            "height": .number(Double(s.height)), "width": .number(Double(s.width)), "channels": .number(Double(s.channels)),
            "ids": .array(s.ids.map(JSON.string)), "sources": .array(s.sources.map(JSON.string)),
            "poison_metadata": .bool(s.poison != nil),
        ])
        try AtomicFile.write(Data(meta.canonical.utf8), to: "\(folder)/\(name).json")
        return files
    }

    /// Reads a split written by `writeSplit`.
    public static func readSplit(name: String, from folder: String) throws -> DatasetSplit {
        let metaPath = "\(folder)/\(name).json"
        let bytes = try InputFile.dataset(metaPath)
        let m: JSON
        do { m = try JSON.parse(bytes: bytes) } catch { throw DatasetError.badFormat(path: metaPath, reason: "invalid JSON: \(error)") }
        guard m["format"]?.stringValue == "abl-split", let n = m["count"]?.intValue, let h = m["height"]?.intValue,
              let w = m["width"]?.intValue, let c = m["channels"]?.intValue,
              let ids = m["ids"]?.arrayValue?.compactMap(\.stringValue), let sources = m["sources"]?.arrayValue?.compactMap(\.stringValue) else {
            throw DatasetError.badFormat(path: metaPath, reason: "not an abl-split metadata file")
        }
        return try readArrays(prefix: name, count: n, height: h, width: w, channels: c, ids: ids, sources: sources,
                              poisoned: m["poison_metadata"]?.boolValue == true, from: folder)
    }

    /// Writes a split's arrays as `<prefix>_images.npy`, `_labels`, `_source_index`, `_source_of`
    /// and, when poisoned, `_poisoned`, `_original_labels`, `_original_indices`.
    static func writeArrays(_ s: DatasetSplit, prefix: String, to folder: String) throws {
        try NPY.write(uint8: s.pixels, shape: [s.count, s.height, s.width, s.channels], to: "\(folder)/\(prefix)_images.npy")
        try NPY.write(int64: s.labels, to: "\(folder)/\(prefix)_labels.npy")
        try NPY.write(int64: s.sourceIndex, to: "\(folder)/\(prefix)_source_index.npy")
        try NPY.write(int64: s.sourceOf, to: "\(folder)/\(prefix)_source_of.npy")
        if let p = s.poison {
            try NPY.write(bool: p.poisoned, to: "\(folder)/\(prefix)_poisoned.npy")
            try NPY.write(int64: p.originalLabels, to: "\(folder)/\(prefix)_original_labels.npy")
            try NPY.write(int64: p.originalIndices, to: "\(folder)/\(prefix)_original_indices.npy")
        }
    }

    /// Reads the arrays `writeArrays` wrote, checking each one's dtype and shape.
    static func readArrays(prefix: String, count n: Int, height h: Int, width w: Int, channels c: Int, ids: [String],
                           sources: [String], poisoned: Bool, from folder: String) throws -> DatasetSplit {
        let images = try NPY.read("\(folder)/\(prefix)_images.npy")
        guard images.dtype == .uint8, images.shape == [n, h, w, c] else {
            throw DatasetError.shapeMismatch(path: "\(folder)/\(prefix)_images.npy", reason: "\(images.dtype.rawValue) \(images.shape), expected |u1 \([n, h, w, c])")
        }
        func ints(_ f: String) throws -> [Int] {
            let a = try NPY.read("\(folder)/\(prefix)_\(f).npy")
            guard a.dtype == .int64, a.shape == [n] else {
                throw DatasetError.shapeMismatch(path: "\(folder)/\(prefix)_\(f).npy", reason: "\(a.dtype.rawValue) \(a.shape), expected <i8 [\(n)]")
            }
            return a.int64
        }
        var s = DatasetSplit(height: h, width: w, channels: c, pixels: images.uint8, labels: try ints("labels"), ids: ids,
                             sources: sources, sourceOf: try ints("source_of"), sourceIndex: try ints("source_index"))
        guard ids.count == n else { throw DatasetError.shapeMismatch(path: folder, reason: "\(ids.count) ids for \(n) \(prefix) samples") }
        if poisoned {
            let flags = try NPY.read("\(folder)/\(prefix)_poisoned.npy")
            guard flags.dtype == .bool, flags.shape == [n] else {
                throw DatasetError.shapeMismatch(path: "\(folder)/\(prefix)_poisoned.npy", reason: "\(flags.shape), expected [\(n)]")
            }
            s.poison = PoisonInfo(poisoned: flags.bool, originalLabels: try ints("original_labels"), originalIndices: try ints("original_indices"))
        }
        return s
    }
}
