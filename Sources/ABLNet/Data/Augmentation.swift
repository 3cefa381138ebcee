/// Seeded training augmentations, applied while a batch is converted from uint8 NHWC to Float
/// NCHW in [0, 1] (as torchvision's `ToTensor`, no normalisation, like the ABL reference).
public struct Augmentation: Sendable, Equatable {
    /// Random crop after zero padding by this many pixels (0: off), as `RandomCrop(size, padding)`.
    public var cropPadding: Int = 0
    /// Random horizontal flip with probability 0.5.
    public var horizontalFlip = false
    /// Cutout: this many square holes of side `cutoutLength` zeroed at random centres (clipped).
    public var cutoutHoles = 0
    public var cutoutLength = 0

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, cutoutHoles: Int = 0, cutoutLength: Int = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.cutoutHoles = cutoutHoles
        self.cutoutLength = cutoutLength
    }

    public static let none = Augmentation()
    /// The reference's fine-tuning augmentation: crop (padding 4), flip, cutout 1 hole of 3 px.
    public static let reference = Augmentation(cropPadding: 4, horizontalFlip: true, cutoutHoles: 1, cutoutLength: 3)

    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && (cutoutHoles == 0 || cutoutLength == 0) }
}

/// Fills input tensors from uint8 images.
public enum Batcher {
    /// Writes images `indices` of `pixels` (N x H x W x C uint8) into `x` as (B, C, H, W) floats
    /// in [0, 1], applying `aug` with `rng` (the draws per image are: crop offsets, flip, holes).
    public static func fill(_ x: Tensor, pixels: UnsafePointer<UInt8>, height h: Int, width w: Int, channels c: Int,
                            indices: ArraySlice<Int>, aug: Augmentation = .none, rng: inout SeededRNG) {
        let b = indices.count
        x.reshape(to: [b, c, h, w])
        let size = h * w * c
        let inv: Float = 1 / 255
        for (k, idx) in indices.enumerated() {
            let src = pixels + idx * size
            let dst = x.data + k * size
            if aug.isIdentity {
                for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
                    dst[ch * h * w + y * w + xx] = Float(src[(y * w + xx) * c + ch]) * inv
                } } }
                continue
            }
            let p = aug.cropPadding
            let dy = p > 0 ? rng.int(below: 2 * p + 1) - p : 0
            let dx = p > 0 ? rng.int(below: 2 * p + 1) - p : 0
            let flip = aug.horizontalFlip && rng.int(below: 2) == 1
            for y in 0..<h {
                let sy = y + dy
                for xx in 0..<w {
                    let sxCrop = xx + dx
                    let sx = flip ? (w - 1 - xx) + dx : sxCrop
                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                    for ch in 0..<c {
                        dst[ch * h * w + y * w + xx] = inside ? Float(src[(sy * w + sx) * c + ch]) * inv : 0
                    }
                }
            }
            if aug.cutoutLength > 0 {
                for _ in 0..<aug.cutoutHoles {
                    let cy = rng.int(below: h), cx = rng.int(below: w)
                    let y0 = max(0, cy - aug.cutoutLength / 2), y1 = min(h, cy + (aug.cutoutLength + 1) / 2)
                    let x0 = max(0, cx - aug.cutoutLength / 2), x1 = min(w, cx + (aug.cutoutLength + 1) / 2)
                    for ch in 0..<c { for y in y0..<y1 { for xx in x0..<x1 { dst[ch * h * w + y * w + xx] = 0 } } }
                }
            }
        }
    }
}
