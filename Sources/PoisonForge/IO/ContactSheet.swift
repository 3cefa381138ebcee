/// A grid of images (a contact sheet), for auditors and reports.
public enum ContactSheet {
    /// Tiles the images `indices` of `split` in rows of `columns`, each scaled up by `scale`
    /// (nearest neighbour) with a `gap`-pixel white border. Returns RGB pixels and the size.
    public static func render(_ split: DatasetSplit, indices: [Int], columns: Int = 10, scale: Int = 2, gap: Int = 2)
        -> (pixels: [UInt8], width: Int, height: Int) {
        let cols = max(1, min(columns, max(indices.count, 1)))
        let rows = max(1, (indices.count + cols - 1) / cols)
        let cw = split.width * scale + gap, ch = split.height * scale + gap
        let width = cols * cw + gap, height = rows * ch + gap
        var px = [UInt8](repeating: 255, count: width * height * 3)
        for (k, i) in indices.enumerated() {
            let ox = gap + (k % cols) * cw, oy = gap + (k / cols) * ch
            let img = split.image(i), base = img.startIndex
            for y in 0..<(split.height * scale) {
                for x in 0..<(split.width * scale) {
                    let s = base + ((y / scale) * split.width + x / scale) * split.channels
                    let d = ((oy + y) * width + ox + x) * 3
                    for c in 0..<3 { px[d + c] = img[s + (split.channels == 3 ? c : 0)] }
                }
            }
        }
        return (px, width, height)
    }
}
