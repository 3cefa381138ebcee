import ABLNet
import Foundation

/// What to do with an image whose size differs from the one the manifest declares.
public enum SizePolicy: String, Sendable {
    case resize   // bilinear resize to the declared size
    case reject   // error naming the file
}

/// Reader of image folders in torchvision's ImageFolder layout: `root/<class>/<image>.png|jpg|jpeg`.
/// Classes are the sorted sub-folder names; hidden entries are skipped.
public enum ImageFolderReader {
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The sorted class folders of `root` with their sorted image files.
    public static func scan(_ root: String) throws -> [(name: String, files: [String])] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.unreadable(path: root, reason: "no such folder")
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root) } catch {
            throw DatasetError.unreadable(path: root, reason: "cannot list folder")
        }
        var classes: [(String, [String])] = []
        for name in entries.sorted() where !name.hasPrefix(".") {
            let dir = root + "/" + name
            var d: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &d), d.boolValue else { continue }
            let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { !$0.hasPrefix(".") && extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
            guard !files.isEmpty else { throw DatasetError.emptyClassFolder(path: dir) }
            classes.append((name, files.map { dir + "/" + $0 }))
        }
        guard !classes.isEmpty else { throw DatasetError.noClasses(path: root) }
        return classes
    }

    /// Decodes one image file (by extension) to `channels` channels and the declared size.
    public static func loadImage(_ path: String, channels: Int, height: Int, width: Int,
                                 policy: SizePolicy) throws -> [UInt8] {
        let bytes = try InputFile.dataset(path)
        let ext = (path as NSString).pathExtension.lowercased()
        let decoded = ext == "png"
            ? try PNGCodec.decode(bytes, channels: channels, path: path)
            : try JPEGCodec.decode(bytes, channels: channels, path: path)
        if decoded.width == width && decoded.height == height { return decoded.pixels }
        switch policy {
        case .reject:
            throw DatasetError.imageSize(path: path, width: decoded.width, height: decoded.height, declaredWidth: width, declaredHeight: height)
        case .resize:
            return Resize.bilinear(decoded.pixels, width: decoded.width, height: decoded.height, channels: channels,
                                   toWidth: width, toHeight: height)
        }
    }

    /// Reads the given (class, file) list into a split. Ids are `<class>/<file name>`.
    static func readSplit(_ items: [(label: Int, path: String, className: String)], channels: Int,
                          height: Int, width: Int, policy: SizePolicy,
                          progress: ((Int, Int) -> Void)? = nil) throws -> DatasetSplit {
        let size = height * width * channels
        var pixels = [UInt8](repeating: 0, count: items.count * size)
        for (i, item) in items.enumerated() {
            let img = try loadImage(item.path, channels: channels, height: height, width: width, policy: policy)
            pixels.replaceSubrange((i * size)..<((i + 1) * size), with: img)
            progress?(i + 1, items.count)
        }
        return DatasetSplit(height: height, width: width, channels: channels, pixels: pixels,
                            labels: items.map(\.label),
                            ids: items.map { "\($0.className)/\(($0.path as NSString).lastPathComponent)" },
                            sources: items.map(\.path), sourceOf: Array(0..<items.count),
                            sourceIndex: Array(repeating: -1, count: items.count))
    }

    /// Reads a train folder and a test folder; both must hold the same classes.
    public static func read(trainRoot: String, testRoot: String, channels: Int, height: Int, width: Int,
                            policy: SizePolicy, name: String) throws -> Dataset {
        let train = try scan(trainRoot), test = try scan(testRoot)
        let names = train.map(\.name)
        guard test.map(\.name) == names else {
            throw DatasetError.invalid("\(testRoot): class folders \(test.map(\.name)) differ from \(trainRoot)'s \(names)")
        }
        func items(_ cls: [(name: String, files: [String])]) -> [(label: Int, path: String, className: String)] {
            cls.enumerated().flatMap { (label, c) in c.files.map { (label, $0, c.name) } }
        }
        return Dataset(name: name, classNames: names,
                       train: try readSplit(items(train), channels: channels, height: height, width: width, policy: policy),
                       test: try readSplit(items(test), channels: channels, height: height, width: width, policy: policy))
    }

    /// Reads one folder and splits each class by a seeded shuffle: `round(testRatio * n)` of a
    /// class's images go to the test split (the split is stratified).
    public static func read(root: String, testRatio: Double, seed: UInt64, channels: Int, height: Int,
                            width: Int, policy: SizePolicy, name: String) throws -> Dataset {
        let classes = try scan(root)
        var rng = SeededRNG(seed: seed, stream: "image-folder-split")
        var trainItems: [(label: Int, path: String, className: String)] = []
        var testItems: [(label: Int, path: String, className: String)] = []
        // each training image's row among the folder's images in listing order (classes, then files)
        var trainRows: [Int] = [], given = 0
        for (label, c) in classes.enumerated() {
            let perm = rng.permutation(c.files.count)
            let nTest = Int((testRatio * Double(c.files.count)).rounded())
            let testSet = Set(perm.prefix(nTest))
            for (i, f) in c.files.enumerated() {
                if testSet.contains(i) { testItems.append((label, f, c.name)) } else { trainItems.append((label, f, c.name)); trainRows.append(given) }
                given += 1
            }
        }
        guard !trainItems.isEmpty, !testItems.isEmpty else {
            throw DatasetError.invalid("\(root): test_ratio \(testRatio) leaves an empty train or test split")
        }
        return Dataset(name: name, classNames: classes.map(\.name),
                       train: try readSplit(trainItems, channels: channels, height: height, width: width, policy: policy),
                       test: try readSplit(testItems, channels: channels, height: height, width: width, policy: policy),
                       givenRows: GivenRows(count: given, trainRows: trainRows))
    }
}
