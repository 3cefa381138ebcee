import Foundation

/// DFST, colour/texture-style variant. DFST (Cheng et al. 2021) uses a CycleGAN trained to
/// restyle images toward "sunrise" photos as its trigger, `x' = (1 - alpha) * x + alpha *
/// style(x)`, dirty-label. No pretrained style network is available here, so `style` is a
/// classical transfer from a sunrise image the project generates (`DFSTVariant.sunrise`):
///
/// 1. colour: the image's luminance is mapped through the sunrise's colour ramp (the style
///    image's pixels sorted by luminance: histogram-matching colour transfer), so dark content
///    becomes violet, mid tones red-orange and highlights yellow-white;
/// 2. texture: the sunrise's high-pass detail (image minus its 5x5 box blur) is added, scaled
///    by `texture`.
///
/// On one-channel data the result is converted back to luminance. The detoxification step of
/// DFST (retraining to remove simple features) has no counterpart. Reports name it
/// "DFST (colour/texture-style variant)".
public struct DFST: TriggerAttack, Sendable {
    public let kind = "dfst"
    public let displayName = "DFST (colour/texture-style variant)"
    public let labelKind = LabelKind.dirty
    public let targetMode: TargetMode
    public let target: Int
    public let rate: Double
    public let alpha: Float
    public let texture: Float
    /// Style image (RGB, HWC uint8, at the dataset's size) and its 256-entry colour ramp.
    public let style: [UInt8]
    public let ramp: [[Float]]
    public let detail: [Float]

    public init(target: Int, rate: Double, targetMode: TargetMode, alpha: Float, texture: Float,
                height: Int, width: Int, style: [UInt8]?) {
        self.target = target
        self.rate = rate
        self.targetMode = targetMode
        self.alpha = alpha
        self.texture = texture
        let s = style ?? DFST.sunrise(height: height, width: width)
        self.style = s
        self.ramp = DFST.colourRamp(s)
        self.detail = DFST.highPass(s, height: height, width: width)
    }

    /// Rec. 601 luma of an RGB triple.
    @inline(__always)
    static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float { 0.299 * r + 0.587 * g + 0.114 * b }

    /// A procedural sunrise (RGB, HWC uint8): a sky graded from deep violet to orange at the
    /// horizon, a sun disk with a glow just above it, and a dark sea with a glittering
    /// reflection below. Deterministic; no external file.
    public static func sunrise(height h: Int, width w: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: h * w * 3)
        let horizon = 0.62
        let sunX = 0.5, sunY = horizon - 0.08, sunR = 0.11
        for y in 0..<h {
            let v = (Double(y) + 0.5) / Double(h)
            for x in 0..<w {
                let u = (Double(x) + 0.5) / Double(w)
                var rgb: (Double, Double, Double)
                if v < horizon {
                    let t = v / horizon // 0 top .. 1 horizon
                    rgb = (60 + 195 * t, 20 + 120 * t * t, 90 - 50 * t)
                    let d = ((u - sunX) * (u - sunX) + (v - sunY) * (v - sunY)).squareRoot()
                    let glow = max(0, 1 - d / (sunR * 3))
                    rgb.0 += 80 * glow; rgb.1 += 90 * glow * glow; rgb.2 += 20 * glow
                    if d < sunR { rgb = (255, 236, 160) }
                } else {
                    let t = (v - horizon) / (1 - horizon)
                    rgb = (70 - 40 * t, 30 - 15 * t, 60 - 20 * t)
                    // The reflection: a column of light under the sun, broken into ripples.
                    let ripple = 0.5 + 0.5 * sin(Double(y) * 2.2 + sin(Double(x) * 1.3) * 1.5)
                    let column = max(0, 1 - abs(u - sunX) / (0.18 * (1 - 0.5 * t)))
                    rgb.0 += 185 * column * ripple; rgb.1 += 130 * column * ripple; rgb.2 += 40 * column * ripple
                }
                let o = (y * w + x) * 3
                px[o] = UInt8(max(0, min(255, rgb.0.rounded())))
                px[o + 1] = UInt8(max(0, min(255, rgb.1.rounded())))
                px[o + 2] = UInt8(max(0, min(255, rgb.2.rounded())))
            }
        }
        return px
    }

    /// 256 RGB colours: entry k is the style pixel at luminance quantile k / 255.
    static func colourRamp(_ style: [UInt8]) -> [[Float]] {
        let n = style.count / 3
        let sorted = (0..<n).sorted {
            let a = luma(Float(style[3 * $0]), Float(style[3 * $0 + 1]), Float(style[3 * $0 + 2]))
            let b = luma(Float(style[3 * $1]), Float(style[3 * $1 + 1]), Float(style[3 * $1 + 2]))
            return a != b ? a < b : $0 < $1
        }
        return (0..<256).map { k in
            let p = sorted[min(n - 1, k * (n - 1) / 255)]
            return [Float(style[3 * p]), Float(style[3 * p + 1]), Float(style[3 * p + 2])]
        }
    }

    /// The style's detail: each RGB value minus its 5x5 box mean.
    static func highPass(_ style: [UInt8], height h: Int, width w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: style.count)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var s: Float = 0, k: Float = 0
            for yy in max(0, y - 2)...min(h - 1, y + 2) { for xx in max(0, x - 2)...min(w - 1, x + 2) { s += Float(style[(yy * w + xx) * 3 + c]); k += 1 } }
            out[(y * w + x) * 3 + c] = Float(style[(y * w + x) * 3 + c]) - s / k
        } } }
        return out
    }

    /// style(x) for an HWC image (1 or 3 channels) as RGB floats in 0...255.
    public func stylise(_ image: UnsafePointer<UInt8>, height h: Int, width w: Int, channels c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: h * w * 3)
        for p in 0..<(h * w) {
            let l = c == 3 ? DFST.luma(Float(image[3 * p]), Float(image[3 * p + 1]), Float(image[3 * p + 2])) : Float(image[p])
            let colour = ramp[Int(max(0, min(255, l.rounded())))]
            for k in 0..<3 { out[3 * p + k] = max(0, min(255, colour[k] + texture * detail[3 * p + k])) }
        }
        return out
    }

    public func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int) {
        let s = stylise(image, height: height, width: width, channels: channels)
        for p in 0..<(height * width) {
            if channels == 3 {
                for k in 0..<3 { image[3 * p + k] = Blend.mix(image[3 * p + k], UInt8(s[3 * p + k].rounded()), alpha: alpha) }
            } else {
                let l = DFST.luma(s[3 * p], s[3 * p + 1], s[3 * p + 2])
                image[p] = Blend.mix(image[p], UInt8(max(0, min(255, l.rounded()))), alpha: alpha)
            }
        }
    }
}
