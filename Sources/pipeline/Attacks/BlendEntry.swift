import ABLNet
import Foundation
import PoisonForge

/// Blend's parameters: a key image mixed into the input.
struct BlendParameters: AttackParameters {
    enum Key: String, Decodable, Sendable, CaseIterable { case noise, noisePerImage = "noise-per-image", image }

    static let descriptor = AttackDescriptor(
        kind: "blend", displayName: "Blend", labelKind: .dirty, needsSurrogate: false,
        doc: "Blend: (1 - alpha) x + alpha key, dirty-label",
        fields: [
            AttackFields.dirtyRate, AttackFields.targetMode,
            .optional("alpha", .number, default: .number(0.2), "blend weight of the key", [.range(0, 1, openLo: true)]),
            .optional("key", .choices(Key.self), default: .string("noise"),
                      "noise: one seeded uniform-noise key; noise-per-image: fresh noise for every image (the ABL reference code); image: key_image"),
            .optional("key_image", .string, default: nil, "PNG or JPEG key (resized to the input, converted to its channels); with key \"image\"", [.fileExists, .imageReadable]),
        ],
        checks: [{ a in
            var issues: [ManifestIssue] = []
            if a["key"]?.stringValue == "image", a["key_image"] == nil { issues.append(ManifestIssue(path: "key_image", rule: "is required with key \"image\"")) }
            if a["key"]?.stringValue != "image", a["key_image"] != nil { issues.append(ManifestIssue(path: "key_image", rule: "is only read with key \"image\"")) }
            return issues
        }],
        parameters: BlendParameters.self)

    let alpha: Double
    let key: Key
    let keyImage: String?

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        switch key {
        case .noisePerImage:
            return Blend(target: c.target, rate: c.rate, targetMode: c.mode, alpha: Float(alpha), key: nil, perImageNoise: true, seed: s.seed)
        case .image:
            guard let keyImage else { throw AttackBuildError(description: "a key image is required with key \"image\"") }
            return Blend(target: c.target, rate: c.rate, targetMode: c.mode, alpha: Float(alpha), key: try Self.load(keyImage, s), perImageNoise: false, seed: s.seed)
        case .noise:
            return Blend(target: c.target, rate: c.rate, targetMode: c.mode, alpha: Float(alpha), key: Blend.noiseKey(count: s.height * s.width * s.channels, seed: s.seed),
                         perImageNoise: false, seed: s.seed)
        }
    }

    /// A PNG or JPEG key image resized (bilinear) to the input and converted to its channels.
    static func load(_ path: String, _ s: AttackShape) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path) } catch { throw AttackBuildError(description: "cannot read the key image: \(error)") }
        let decoded = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) ? try PNGCodec.decode(bytes, channels: s.channels, path: path)
                                                                   : try JPEGCodec.decode(bytes, channels: s.channels, path: path)
        if decoded.width == s.width && decoded.height == s.height { return decoded.pixels }
        return Resize.bilinear(decoded.pixels, width: decoded.width, height: decoded.height, channels: s.channels, toWidth: s.width, toHeight: s.height)
    }
}
