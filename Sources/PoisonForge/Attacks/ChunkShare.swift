import ABLNet
import Datasets

/// An attack's per-image optimisation (PGD for CL, feature collision for FC) split over the
/// ranks of a data-parallel run: the images go in chunks, in order; each rank optimises a
/// contiguous share of the chunks, and `gather` then gives every rank every chunk's images.
/// A chunk is computed exactly as one process computes it (eval mode, the same batch), so the
/// poisoned images are the same bytes on any number of ranks.
struct ChunkShare {
    let group: any Collective
    /// The chunks' sample indices, in order.
    let chunks: [[Int]]
    let mine: Range<Int>

    init(_ indices: [Int], chunk: Int, group: any Collective) {
        self.group = group
        chunks = Swift.stride(from: 0, to: indices.count, by: chunk).map { Array(indices[$0..<min($0 + chunk, indices.count)]) }
        mine = group.shard(chunks.count)
    }

    func owns(_ chunk: Int) -> Bool { mine.contains(chunk) }

    /// Gives every rank the rows of every chunk of `pixels` (each rank holds its own chunks'
    /// rows), one chunk at a time. Pixel levels are integers, exact in Float sums.
    func gather(_ pixels: inout [UInt8], rowSize: Int) {
        guard group.isDistributed else { return }
        var buffer: [Float] = []
        for (c, rows) in chunks.enumerated() {
            buffer = [Float](repeating: 0, count: rows.count * rowSize)
            if owns(c) {
                for (k, i) in rows.enumerated() { for j in 0..<rowSize { buffer[k * rowSize + j] = Float(pixels[i * rowSize + j]) } }
            }
            group.sum(&buffer)
            for (k, i) in rows.enumerated() { for j in 0..<rowSize { pixels[i * rowSize + j] = UInt8(buffer[k * rowSize + j]) } }
        }
    }

    /// Per-rank tallies summed over the ranks.
    func total(_ values: [Double]) -> [Double] {
        var v = values
        group.sum(&v)
        return v
    }
}
