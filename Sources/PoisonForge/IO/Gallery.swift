/// The attack gallery: for each poisoned sample a row of three images, the clean original, its
/// poisoned version and the absolute difference amplified so its largest value is white.
public enum Gallery {
    /// RGB pixels of the gallery for `indices` (rows), images scaled up `scale` times.
    public static func render(clean: DatasetSplit, poisoned: DatasetSplit, indices: [Int], scale: Int = 4)
        -> (pixels: [UInt8], width: Int, height: Int) {
        var tiles = DatasetSplit(height: clean.height, width: clean.width, channels: clean.channels, pixels: [], labels: [], ids: [],
                                 sources: [], sourceOf: [], sourceIndex: [])
        for i in indices {
            let a = Array(clean.image(i)), b = Array(poisoned.image(i))
            let diff = zip(a, b).map { abs(Int($0) - Int($1)) }
            let peak = max(1, diff.max() ?? 1)
            tiles.pixels += a + b + diff.map { UInt8(min(255, $0 * 255 / peak)) }
            tiles.labels += [0, 0, 0]
            tiles.ids += ["\(i)", "\(i)+p", "\(i)+d"]
        }
        return ContactSheet.render(tiles, indices: Array(0..<tiles.count), columns: 3, scale: scale, gap: 2)
    }
}
