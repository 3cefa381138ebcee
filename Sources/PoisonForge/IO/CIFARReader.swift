import ABLNet
import Foundation

/// Reader of the CIFAR-10 and CIFAR-100 binary batches.
///
/// A CIFAR-10 record is 1 label byte then 3072 pixel bytes (the 1024 red, then green, then blue
/// values of a 32x32 image, row-major). A CIFAR-100 record has 2 label bytes (coarse, fine) first.
public enum CIFARReader {
    public enum Variant: String, Sendable {
        case cifar10, cifar100
    }

    /// Which CIFAR-100 label to use.
    public enum LabelKind: String, Sendable {
        case fine, coarse
    }

    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// Reads the records of the given batch files into one split (HWC pixels, 32x32x3).
    public static func read(files: [String], variant: Variant, labelKind: LabelKind = .fine,
                            idPrefix: String) throws -> DatasetSplit {
        let labelBytes = variant == .cifar10 ? 1 : 2
        let record = labelBytes + 3072
        var pixels = [UInt8]()
        var labels = [Int](), ids = [String](), sourceOf = [Int](), sourceIndex = [Int]()
        for (f, path) in files.enumerated() {
            let data = try InputFile.dataset(path)
            guard data.count > 0 else {
                throw DatasetError.truncated(path: path, expectedBytes: record, actualBytes: 0)
            }
            guard data.count % record == 0 else {
                let whole = data.count / record
                throw DatasetError.truncated(path: path, expectedBytes: (whole + 1) * record, actualBytes: data.count)
            }
            let n = data.count / record
            pixels.reserveCapacity(pixels.count + n * 3072)
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self)
                var img = [UInt8](repeating: 0, count: 3072)
                for r in 0..<n {
                    let base = r * record
                    let label = variant == .cifar10 ? b[base] : (labelKind == .fine ? b[base + 1] : b[base])
                    labels.append(Int(label))
                    // planar RRR..GGG..BBB -> interleaved RGB
                    let px = base + labelBytes
                    for i in 0..<1024 {
                        img[3 * i] = b[px + i]
                        img[3 * i + 1] = b[px + 1024 + i]
                        img[3 * i + 2] = b[px + 2048 + i]
                    }
                    pixels.append(contentsOf: img)
                    ids.append("\(idPrefix)-\(labels.count - 1)")
                    sourceOf.append(f)
                    sourceIndex.append(r)
                }
            }
        }
        let classCount = variant == .cifar10 ? 10 : (labelKind == .fine ? 100 : 20)
        for (i, l) in labels.enumerated() where l >= classCount {
            throw DatasetError.labelOutOfRange(path: files[sourceOf[i]], label: l, classes: classCount)
        }
        return DatasetSplit(height: 32, width: 32, channels: 3, pixels: pixels, labels: labels, ids: ids,
                            sources: files, sourceOf: sourceOf, sourceIndex: sourceIndex)
    }

    /// Class names from a `batches.meta.txt` (CIFAR-10) or `fine_label_names.txt` /
    /// `coarse_label_names.txt` (CIFAR-100) beside the batch files, when present.
    /// A file that is there but cannot be read (a FIFO, too large, not UTF-8) is an error naming it.
    public static func classNames(near file: String, variant: Variant, labelKind: LabelKind) throws -> [String]? {
        let path = namesFile(near: file, variant: variant, labelKind: labelKind)
        guard FileManager.default.fileExists(atPath: path) else { return variant == .cifar10 ? cifar10ClassNames : nil }
        guard let text = String(bytes: try InputFile.dataset(path, limit: 1 << 20), encoding: .utf8) else {
            throw DatasetError.badFormat(path: path, reason: "class names must be UTF-8 text, one per line")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }

    /// Where the class names of a batch file's dataset would be: beside it.
    public static func namesFile(near file: String, variant: Variant, labelKind: LabelKind) -> String {
        let dir = URL(fileURLWithPath: file).deletingLastPathComponent()
        switch variant {
        case .cifar10: return dir.appendingPathComponent("batches.meta.txt").path
        case .cifar100: return dir.appendingPathComponent(labelKind == .fine ? "fine_label_names.txt" : "coarse_label_names.txt").path
        }
    }
}
