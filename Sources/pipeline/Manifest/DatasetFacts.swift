import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge

/// What `abl validate` can learn about a dataset without reading its images.
struct DatasetFacts {
    var classCount: Int?
    var channels: Int?
    var trainCount: Int?
    var height: Int?
    var width: Int?

    static func probe(_ d: JSON) -> DatasetFacts {
        var f = DatasetFacts()
        let names = d["class_names"]?.arrayValue?.count
        switch d["format"]?.stringValue {
        case "fashion-mnist":
            f.classCount = 10; f.channels = 1; f.trainCount = 60000; f.height = 28; f.width = 28
        case "cifar10":
            f.classCount = 10; f.channels = 3; f.height = 32; f.width = 32
        case "cifar100":
            f.classCount = d["label"]?.stringValue == "coarse" ? 20 : 100; f.channels = 3; f.height = 32; f.width = 32
        case "idx":
            f.channels = 1
            if let path = d["test_images"]?.stringValue, let images = try? IDXReader.readImages(path) { // the smaller file
                f.height = images.height; f.width = images.width
            }
            if let path = d["train_labels"]?.stringValue, let labels = try? IDXReader.readLabels(path) {
                f.classCount = (labels.max() ?? 0) + 1
                f.trainCount = labels.count
            }
        case "npy":
            if let path = d["train_images"]?.stringValue, let a = try? NPY.readAny(path), a.shape.count >= 3 {
                f.trainCount = a.shape[0]; f.height = a.shape[1]; f.width = a.shape[2]
                f.channels = a.shape.count == 4 ? a.shape[3] : 1
            }
            // labels outside 0..<maxInferredClasses leave the count unknown here; ingest names the file and the label
            if let path = d["train_labels"]?.stringValue, let labels = try? NPY.readAny(path).integers(), let top = labels.max(),
               let low = labels.min(), low >= 0, top < DatasetSource.maxInferredClasses {
                f.classCount = top + 1
            }
        case "image-folder":
            if let root = d["train_dir"]?.stringValue ?? d["root"]?.stringValue, let classes = try? ImageFolderReader.scan(root) {
                f.classCount = classes.count
            }
        default: break
        }
        if let n = names { f.classCount = n }
        if let c = d["channels"]?.intValue { f.channels = c }
        if let h = d["height"]?.intValue { f.height = h }
        if let w = d["width"]?.intValue { f.width = w }
        if let limit = d["train_limit"]?.intValue { f.trainCount = min(limit, f.trainCount ?? limit) }
        return f
    }
}
