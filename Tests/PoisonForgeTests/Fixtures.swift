import CZlib
import Foundation
import XCTest
@testable import PoisonForge

/// Fixture files the tests write themselves.
enum Fixtures {
    /// A fresh temporary folder.
    static func tempFolder(_ name: String = #function) -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "abl-test-\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    static func idxImages(count: Int, height: Int, width: Int) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, 3] + be32(count) + be32(height) + be32(width)
        for i in 0..<(count * height * width) { b.append(UInt8((i * 7 + i / 13) & 255)) }
        return b
    }

    static func idxLabels(_ labels: [Int]) -> [UInt8] { [0, 0, 8, 1] + be32(labels.count) + labels.map { UInt8($0) } }

    static func write(_ bytes: [UInt8], to path: String) { XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "could not write \(path)") }

    static func crc32(_ bytes: [UInt8]) -> UInt {
        bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, UInt32($0.count)) }
    }

    static func writeGzip(_ bytes: [UInt8], to path: String) {
        let f = gzopen(path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
    }

    /// An IDX dataset (train 40, test 20, 8x8, 4 classes) in a folder; returns its four paths.
    static func idxDataset(in folder: String, gzip: Bool = true) -> (String, String, String, String) {
        let ext = gzip ? ".gz" : ""
        let paths = (folder + "/train-images" + ext, folder + "/train-labels" + ext, folder + "/test-images" + ext, folder + "/test-labels" + ext)
        func w(_ b: [UInt8], _ p: String) { if gzip { writeGzip(b, to: p) } else { write(b, to: p) } }
        w(idxImages(count: 40, height: 8, width: 8), paths.0)
        w(idxLabels((0..<40).map { $0 % 4 }), paths.1)
        w(idxImages(count: 20, height: 8, width: 8), paths.2)
        w(idxLabels((0..<20).map { $0 % 4 }), paths.3)
        return paths
    }

    /// A CIFAR-10 record: label then R, G, B planes; pixel (c, i) = (label * 31 + c * 7 + i) & 255.
    static func cifarRecord(label: Int, coarse: Int? = nil) -> [UInt8] {
        var r: [UInt8] = coarse.map { [UInt8($0), UInt8(label)] } ?? [UInt8(label)]
        for c in 0..<3 {
            for i in 0..<1024 {
                let v: Int = (label * 31 + c * 7 + i) & 255
                r.append(UInt8(v))
            }
        }
        return r
    }

    /// A solid-ish RGB test image with a gradient.
    static func rgbImage(width: Int, height: Int, seed: Int) -> [UInt8] {
        var px = [UInt8]()
        let wd: Int = max(width - 1, 1), hd: Int = max(height - 1, 1)
        for y in 0..<height {
            for x in 0..<width {
                let r: Int = (x * 255 / wd + seed * 40) & 255
                let g: Int = (y * 255 / hd) & 255
                let b: Int = (seed * 60) & 255
                px.append(UInt8(r)); px.append(UInt8(g)); px.append(UInt8(b))
            }
        }
        return px
    }

    /// An ImageFolder tree: classes `a` and `b`, each with `perClass` images, PNG and JPEG mixed.
    static func imageFolder(in root: String, perClass: Int, size: Int = 8) throws {
        for (ci, cls) in ["a", "b"].enumerated() {
            let dir = root + "/" + cls
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<perClass {
                let px = rgbImage(width: size, height: size, seed: ci * 10 + i)
                if i % 2 == 0 {
                    try PNGCodec.write(pixels: px, width: size, height: size, channels: 3, to: dir + "/img\(i).png")
                } else {
                    write(try JPEGCodec.encode(pixels: px, width: size, height: size, channels: 3, quality: 95), to: dir + "/img\(i).jpg")
                }
            }
        }
    }
}

extension Fixtures {
    /// BadNets with the reference trigger (a 3x3 grid in the bottom-right corner).
    static func badNets(target: Int = 0, rate: Double = 0.1, targetMode: TargetMode = .allToOne) -> BadNets {
        BadNets(target: target, rate: rate, targetMode: targetMode, size: 3, pattern: BadNets.referencePattern, corner: .bottomRight, margin: 0)
    }
}
