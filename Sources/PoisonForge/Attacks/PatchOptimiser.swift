import ABLNet
import Foundation

/// A square patch region of an image.
public struct PatchRegion: Sendable, Equatable {
    public var row: Int
    public var col: Int
    public var size: Int

    /// The region `size` pixels square, `margin` pixels from the bottom-right corner.
    public static func bottomRight(height: Int, width: Int, size: Int, margin: Int) -> PatchRegion {
        PatchRegion(row: height - margin - size, col: width - margin - size, size: size)
    }

    public func contains(y: Int, x: Int) -> Bool { y >= row && y < row + size && x >= col && x < col + size }

    /// Whether the region lies inside an image of the given size.
    public func fits(height: Int, width: Int) -> Bool { row >= 0 && col >= 0 && row + size <= height && col + size <= width }
}

/// An optimised patch (TrojanNN, latent backdoor): `pattern` holds HWC uint8 values of the
/// `region.size` x `region.size` patch, stamped over the image.
public struct PatchStamp: Sendable, Equatable {
    public var region: PatchRegion
    public var pattern: [UInt8]

    public func apply(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int) {
        let s = region.size
        for r in 0..<s { for c in 0..<s {
            let y = region.row + r, x = region.col + c
            guard y >= 0, y < height, x >= 0, x < width else { continue }
            for ch in 0..<channels { image[(y * width + x) * channels + ch] = pattern[(r * s + c) * channels + ch] }
        } }
    }
}

/// Optimises a patch's pixels with Adam so that a loss on the surrogate's penultimate features
/// of patched images falls: the shared engine of the TrojanNN and latent-backdoor triggers.
public enum PatchOptimiser {
    public struct Settings: Sendable {
        public var steps = 200
        public var batch = 64
        public var lr: Float = 0.05
        public init(steps: Int, batch: Int, lr: Float) {
            self.steps = steps
            self.batch = batch
            self.lr = lr
        }
    }

    /// Pastes the [0, 1] patch values (C, s, s) into every image of the (N, C, H, W) tensor x.
    static func paste(_ patch: [Float], region: PatchRegion, into x: Tensor) {
        let (n, c, h, w, s) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], region.size)
        for i in 0..<n { for ch in 0..<c { for r in 0..<s { for cc in 0..<s {
            x.data[((i * c + ch) * h + region.row + r) * w + region.col + cc] = patch[(ch * s + r) * s + cc]
        } } } }
    }

    /// Returns the optimised patch as HWC uint8 and the loss on a fixed held batch of (up to)
    /// 256 pool images with the initial (random) patch and with the final one. `loss` receives the features (N, F) and writes d loss / d features.
    /// `layer` says whether the loss sees the pooled features or the last spatial feature map.
    public static func optimise(_ net: Network, images: DatasetSplit, pool: [Int], region: PatchRegion, settings: Settings, seed: UInt64,
                                layer: SurrogateOps.FeatureLayer = .pooled,
                                loss: (Tensor, Tensor) -> Double) throws -> (stamp: PatchStamp, firstLoss: Double, lastLoss: Double) {
        guard !pool.isEmpty else { throw DatasetError.invalid("no image to optimise the patch on") }
        let (c, s, h, w) = (images.channels, region.size, images.height, images.width)
        var rng = SeededRNG(seed: seed, stream: "patch-optimiser")
        var patch = (0..<(c * s * s)).map { _ in rng.unitFloat() }
        var m = [Float](repeating: 0, count: patch.count), v = m
        let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        // A fixed held batch on which the loss is measured before and after.
        let held = Array(rng.permutation(pool.count).prefix(256).map { pool[$0] })
        func heldLoss(_ patch: [Float]) throws -> Double {
            let x = SurrogateOps.tensor(images, held)
            paste(patch, region: region, into: x)
            return try SurrogateOps.featureGradient(net, x, at: layer, loss: loss).loss
        }
        let before = try heldLoss(patch)
        for step in 1...settings.steps {
            let idx = (0..<min(settings.batch, pool.count)).map { _ in pool[rng.int(below: pool.count)] }
            let x = SurrogateOps.tensor(images, idx)
            paste(patch, region: region, into: x)
            let (g, value) = try SurrogateOps.featureGradient(net, x, at: layer, loss: loss)
            _ = value
            // d loss / d patch: the input gradient summed over the batch inside the region.
            var grad = [Float](repeating: 0, count: patch.count)
            for i in 0..<idx.count { for ch in 0..<c { for r in 0..<s { for cc in 0..<s {
                grad[(ch * s + r) * s + cc] += g.data[((i * c + ch) * h + region.row + r) * w + region.col + cc]
            } } } }
            let t = Float(step)
            for k in 0..<patch.count {
                m[k] = b1 * m[k] + (1 - b1) * grad[k]
                v[k] = b2 * v[k] + (1 - b2) * grad[k] * grad[k]
                let mh = m[k] / (1 - pow(b1, t)), vh = v[k] / (1 - pow(b2, t))
                patch[k] = max(0, min(1, patch[k] - settings.lr * mh / (vh.squareRoot() + eps)))
            }
        }
        var pattern = [UInt8](repeating: 0, count: patch.count)
        for ch in 0..<c { for r in 0..<s { for cc in 0..<s {
            pattern[(r * s + cc) * c + ch] = SurrogateOps.quantise(patch[(ch * s + r) * s + cc])
        } } }
        return (PatchStamp(region: region, pattern: pattern), before, try heldLoss(patch))
    }
}
