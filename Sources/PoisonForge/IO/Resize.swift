/// Bilinear resizing of uint8 HWC images with half-pixel centres (the convention of PIL and of
/// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)` without antialiasing).
public enum Resize {
    public static func bilinear(_ src: [UInt8], width: Int, height: Int, channels: Int,
                                toWidth ow: Int, toHeight oh: Int) -> [UInt8] {
        if ow == width && oh == height { return src }
        var dst = [UInt8](repeating: 0, count: ow * oh * channels)
        let sx = Float(width) / Float(ow), sy = Float(height) / Float(oh)
        for oy in 0..<oh {
            // source coordinate of this output row's centre
            let fy = max(0, (Float(oy) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1)
            let wy = fy - Float(y0)
            for ox in 0..<ow {
                let fx = max(0, (Float(ox) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), width - 1), x1 = min(x0 + 1, width - 1)
                let wx = fx - Float(x0)
                for c in 0..<channels {
                    let p00 = Float(src[(y0 * width + x0) * channels + c])
                    let p01 = Float(src[(y0 * width + x1) * channels + c])
                    let p10 = Float(src[(y1 * width + x0) * channels + c])
                    let p11 = Float(src[(y1 * width + x1) * channels + c])
                    let top = p00 + (p01 - p00) * wx
                    let bottom = p10 + (p11 - p10) * wx
                    let v = top + (bottom - top) * wy
                    dst[(oy * ow + ox) * channels + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return dst
    }
}
