import ABLNet

/// Blend (Chen et al. 2017, "blended injection"): `x' = (1 - alpha) * x + alpha * key`,
/// dirty-label. The key is a given image (resized to the input) or seeded uniform noise; the
/// ABL reference code draws fresh noise for every image, offered as `perImageNoise`.
public struct Blend: TriggerAttack, Sendable {
    public let kind = "blend"
    public let displayName = "Blend"
    public let labelKind = LabelKind.dirty
    public let targetMode: TargetMode
    public let target: Int
    public let rate: Double
    /// Blend weight of the key, in [0, 1].
    public let alpha: Float
    /// The key image, HWC uint8 at the dataset's size; nil with `perImageNoise`.
    public let key: [UInt8]?
    /// Draw a fresh uniform-noise key for every image (seeded by the image's index).
    public let perImageNoise: Bool
    public let seed: UInt64

    public init(target: Int, rate: Double, targetMode: TargetMode, alpha: Float,
                key: [UInt8]?, perImageNoise: Bool, seed: UInt64) {
        self.target = target
        self.rate = rate
        self.targetMode = targetMode
        self.alpha = alpha
        self.key = key
        self.perImageNoise = perImageNoise
        self.seed = seed
    }

    /// A seeded uniform-noise key of `count` values in 0...255.
    public static func noiseKey(count: Int, seed: UInt64, stream: String = "blend-key") -> [UInt8] {
        var rng = SeededRNG(seed: seed, stream: stream)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
    }

    /// `(1 - alpha) * x + alpha * k`, rounded to the nearest level.
    @inline(__always)
    public static func mix(_ x: UInt8, _ k: UInt8, alpha: Float) -> UInt8 {
        UInt8(max(0, min(255, ((1 - alpha) * Float(x) + alpha * Float(k)).rounded())))
    }

    public func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int) {
        let n = height * width * channels
        let k = perImageNoise ? Blend.noiseKey(count: n, seed: seed, stream: "blend-noise-\(index)") : key!
        for p in 0..<n { image[p] = Blend.mix(image[p], k[p], alpha: alpha) }
    }
}
