import Foundation

/// SIG (Barni et al. 2019): an additive vertical sinusoid
/// `x'[i][j] = clip(x[i][j] + delta * sin(2 * pi * j * f / width))` on every channel,
/// clean-label: only target-class images are poisoned and they keep their label. The same
/// signal is added to non-target test images for the ASR. (BackdoorBench's additive form with
/// delta 40; the ABL reference code instead blends a stripe image at 0.2.)
public struct SIG: TriggerAttack, Sendable {
    public let kind = "sig"
    public let displayName = "SIG"
    public let labelKind = LabelKind.clean
    public let targetMode = TargetMode.allToOne
    public let target: Int
    public let rate: Double
    public let rateBase: RateBase
    /// Amplitude in pixel levels.
    public let delta: Double
    /// Periods across the image width.
    public let frequency: Double

    public init(target: Int, rate: Double, rateBase: RateBase, delta: Double, frequency: Double) {
        self.target = target
        self.rate = rate
        self.rateBase = rateBase
        self.delta = delta
        self.frequency = frequency
    }

    /// The signal's value in column j of an image `width` wide.
    public func signal(column j: Int, width: Int) -> Double { delta * sin(2 * Double.pi * Double(j) * frequency / Double(width)) }

    public func applyTrigger(_ image: UnsafeMutablePointer<UInt8>, height: Int, width: Int, channels: Int, index: Int) {
        for j in 0..<width {
            let s = signal(column: j, width: width)
            for i in 0..<height {
                for c in 0..<channels {
                    let p = (i * width + j) * channels + c
                    image[p] = UInt8(max(0, min(255, (Double(image[p]) + s).rounded())))
                }
            }
        }
    }
}
