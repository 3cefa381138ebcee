/// BadNets (Gu et al. 2017): a small pixel patch stamped on every channel, dirty-label.
///
/// The default is the ABL reference's 3x3 grid in the bottom-right corner: rows H-3..H-1,
/// columns W-3..W-1 read [[0, 0, 255], [0, 255, 0], [255, 0, 255]].
public struct BadNets: TriggerAttack, Sendable {
    public let kind = "badnets"
    public let displayName = "BadNets"
    public let labelKind = LabelKind.dirty
    public let targetMode: TargetMode
    public let target: Int
    public let rate: Double
    /// The patch, row-major, `size x size` values in 0...255.
    public let pattern: [UInt8]
    public let size: Int
    public let corner: Corner
    /// Distance in pixels between the patch and the image border.
    public let margin: Int

    public enum Corner: String, Sendable, CaseIterable {
        case bottomRight = "bottom-right", bottomLeft = "bottom-left", topRight = "top-right", topLeft = "top-left"
    }

    /// The reference's 3x3 grid.
    public static let referencePattern: [UInt8] = [0, 0, 255, 0, 255, 0, 255, 0, 255]

    /// Named patterns for a patch of side `size`: `reference` (3x3 only), `checkerboard`
    /// (255 where row + column is even), `white`.
    public static func pattern(named name: String, size: Int) -> [UInt8]? {
        switch name {
        case "reference": return size == 3 ? referencePattern : nil
        case "checkerboard": return (0..<(size * size)).map { ($0 / size + $0 % size) % 2 == 0 ? 255 : 0 }
        case "white": return Array(repeating: 255, count: size * size)
        default: return nil
        }
    }

    public init(target: Int, rate: Double, targetMode: TargetMode, size: Int,
                pattern: [UInt8], corner: Corner, margin: Int) {
        self.target = target
        self.rate = rate
        self.targetMode = targetMode
        self.size = size
        self.pattern = pattern
        self.corner = corner
        self.margin = margin
    }

    /// Top-left pixel of the patch in an image of the given size.
    public func origin(height: Int, width: Int) -> (row: Int, col: Int) {
        let bottom = height - margin - size, right = width - margin - size
        switch corner {
        case .bottomRight: return (bottom, right)
        case .bottomLeft: return (bottom, margin)
        case .topRight: return (margin, right)
        case .topLeft: return (margin, margin)
        }
    }

    public func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int) {
        let (r0, c0) = origin(height: height, width: width)
        for r in 0..<size {
            for c in 0..<size {
                let y = r0 + r, x = c0 + c
                guard y >= 0, y < height, x >= 0, x < width else { continue }
                for ch in 0..<channels { image[(y * width + x) * channels + ch] = pattern[r * size + c] }
            }
        }
    }
}
