import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// Bad inputs inside a run: an error naming the file, and nothing cached.
final class BadInputPipelineTests: XCTestCase {
    func testIDXWithZeroTrainingImagesFailsAndIsNotCached() throws {
        let dir = T.tempFolder()
        let m = try Manifest.resolve(T.manifest(dir), file: "m.json")
        T.write([0, 0, 8, 3] + T.be32(0) + T.be32(6) + T.be32(6), dir + "/tr-img")
        T.write([0, 0, 8, 1] + T.be32(0), dir + "/tr-lab")
        let r = Runner(manifest: m, stages: [IngestStage()], quiet: true)
        XCTAssertThrowsError(try r.run()) { e in XCTAssertTrue("\(e)".contains(dir + "/tr-img") && "\(e)".contains("0 images"), "\(e)") }
        XCTAssertEqual(try r.status().first?.state, .neverRun)
    }

    func testImageFolderEntryLinkedToADeviceFailsWithoutHanging() throws {
        let dir = T.tempFolder()
        for cls in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/img/\(cls)", withIntermediateDirectories: true)
            for i in 0..<3 {
                let png = try PNGCodec.encode(pixels: [UInt8](repeating: UInt8(40 * i), count: 16), width: 4, height: 4, channels: 1)
                T.write(png, "\(dir)/img/\(cls)/\(i).png")
            }
        }
        try FileManager.default.createSymbolicLink(atPath: dir + "/img/a/zero.png", withDestinationPath: "/dev/zero")
        let dataset: JSON = .object(["format": .string("image-folder"), "root": .string(dir + "/img"), "test_ratio": .number(0.34),
                                     "channels": .number(1), "height": .number(4), "width": .number(4)])
        let m = try Manifest.resolve(T.manifest(dir, extra: ["dataset": dataset]), file: "m.json")
        let r = Runner(manifest: m, stages: [IngestStage()], quiet: true)
        XCTAssertThrowsError(try r.run()) { e in
            XCTAssertTrue("\(e)".contains(dir + "/img/a/zero.png") && "\(e)".contains("character device"), "\(e)")
        }
    }

    func testAnImageOfAnotherSizeNamesTheFileAndTheManifestKeyThatResizes() throws {
        let dir = T.tempFolder()
        for cls in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/img/\(cls)", withIntermediateDirectories: true)
            for i in 0..<3 {
                let side = cls == "b" && i == 2 ? 6 : 4
                let png = try PNGCodec.encode(pixels: [UInt8](repeating: UInt8(40 * i), count: side * side), width: side, height: side, channels: 1)
                T.write(png, "\(dir)/img/\(cls)/\(i).png")
            }
        }
        let dataset: JSON = .object(["format": .string("image-folder"), "root": .string(dir + "/img"), "test_ratio": .number(0.34),
                                     "channels": .number(1), "height": .number(4), "width": .number(4), "size_policy": .string("reject")])
        let m = try Manifest.resolve(T.manifest(dir, extra: ["dataset": dataset]), file: "m.json")
        let r = Runner(manifest: m, stages: [IngestStage()], quiet: true)
        XCTAssertThrowsError(try r.run()) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(dir + "/img/b/2.png") && text.contains("6x6") && text.contains("4x4") && text.contains("dataset.size_policy"), text)
        }
        XCTAssertEqual(try r.status().first?.state, .neverRun)
    }

    func testASurrogateCheckpointWithNaNWeightsFailsTheStageNamingTheKey() throws {
        let dir = T.tempFolder()
        let ckpt = dir + "/surrogate.safetensors"
        try SafeTensors.save(Architecture.smallCNN.build(inputChannels: 1, numClasses: 3, seed: 1, engine: EngineSettings()), to: ckpt)
        let m = try Manifest.resolve(ABLStagesTests.smallRun(dir, extra: [
            "attack": .object(["kind": .string("cl"), "steps": .number(1)]),
            "surrogate": .object(["architecture": .string("small-cnn"), "checkpoint": .string(ckpt)]),
        ]), file: "m.json")
        // Damaged after validation: the last float of the file (fc.bias) becomes NaN.
        var bytes = [UInt8](FileManager.default.contents(atPath: ckpt)!)
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
        T.write(bytes, ckpt)
        let r = Runner(manifest: m, stages: [IngestStage(), SurrogateStage()], quiet: true)
        XCTAssertThrowsError(try r.run()) { e in
            XCTAssertTrue("\(e)".contains("surrogate.checkpoint") && "\(e)".contains(ckpt) && "\(e)".contains("must be finite"), "\(e)")
        }
        XCTAssertNotEqual(try r.status().last?.state, .fresh)
    }
}

final class SpecialFileManifestTests: XCTestCase {
    /// A FIFO named as the manifest or as a key image is refused at once, never read (it would block).
    func testAFIFOIsRefusedWithoutHanging() throws {
        let dir = T.tempFolder()
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        XCTAssertThrowsError(try Manifest.load(fifo)) { XCTAssertTrue("\($0)".contains("cannot read the file"), "\($0)") }
        let m = T.manifest(dir, extra: ["attack": .object(["kind": .string("blend"), "key": .string("image"), "key_image": .string(fifo)])])
        XCTAssertThrowsError(try Manifest.resolve(m, file: "m.json")) { XCTAssertTrue("\($0)".contains("attack.key_image"), "\($0)") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
}
