import ABLNet
import Foundation

/// How far each sample of a label lies from the label's clean test samples in the isolation
/// model's penultimate features: the mean Euclidean distance to its `k` nearest test samples of
/// the label. A backdoor's dirty-label samples are images of other classes that the trigger maps
/// to the target: the model learns them as easily as the target's own easy images (their losses
/// then look clean), but their features stay apart from the target's real images. The test
/// samples get the same score against the other test samples of their label (leaving themselves
/// out), which is the clean reference `Detection` compares the training scores with.
public enum NeighbourDistance {
    /// Nearest neighbours averaged per sample.
    public static let k = 5

    /// Per label with at least `k + 1` test samples: the training samples' and the test samples'
    /// scores, in the order the samples appear. `trainFeatures` is N x width, row-major, and so on.
    /// With `only`, that label alone.
    public static func scores(trainFeatures: [Float], trainLabels: [Int], testFeatures: [Float], testLabels: [Int],
                              width: Int, only: Int? = nil) -> [Int: (train: [Double], test: [Double])] {
        var out: [Int: (train: [Double], test: [Double])] = [:]
        let trainBy = Dictionary(grouping: trainLabels.indices, by: { trainLabels[$0] })
        let testBy = Dictionary(grouping: testLabels.indices, by: { testLabels[$0] })
        for (c, rows) in trainBy where only == nil || only == c {
            guard let refRows = testBy[c], refRows.count > k else { continue }
            let a = gather(trainFeatures, rows, width), b = gather(testFeatures, refRows, width)
            out[c] = (meanNearest(a, rows.count, b, refRows.count, width, excludeSelf: false),
                      meanNearest(b, refRows.count, b, refRows.count, width, excludeSelf: true))
        }
        return out
    }

    static func gather(_ x: [Float], _ rows: [Int], _ width: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * width)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, i) in rows.enumerated() { (dst.baseAddress! + r * width).update(from: src.baseAddress! + i * width, count: width) }
            }
        }
        return out
    }

    /// For each row of `a` (n x width), the mean distance to its k nearest rows of `b` (m x width),
    /// skipping the same row when `a` is `b` (`excludeSelf`). Squared distances come from one
    /// matrix product: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, in blocks of 1024 rows of `a`.
    static func meanNearest(_ a: [Float], _ n: Int, _ b: [Float], _ m: Int, _ width: Int, excludeSelf: Bool) -> [Double] {
        func norms(_ x: [Float], _ rows: Int) -> [Float] {
            (0..<rows).map { r in var s: Float = 0; for j in 0..<width { s += x[r * width + j] * x[r * width + j] }; return s }
        }
        let na = norms(a, n), nb = norms(b, m)
        var out = [Double](repeating: 0, count: n)
        let block = 1024
        var dots = [Float](repeating: 0, count: min(block, n) * m)
        for start in stride(from: 0, to: n, by: block) {
            let rows = min(block, n - start)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    dots.withUnsafeMutableBufferPointer { pd in
                        BLAS.sgemm(transB: true, m: rows, n: m, k: width, a: pa.baseAddress! + start * width, lda: width,
                                   b: pb.baseAddress!, ldb: width, c: pd.baseAddress!, ldc: m)
                    }
                }
            }
            var nearest = [Float](repeating: .infinity, count: k)
            for r in 0..<rows {
                for j in 0..<k { nearest[j] = .infinity }
                let i = start + r
                for j in 0..<m where !(excludeSelf && j == i) {
                    let d = max(0, na[i] + nb[j] - 2 * dots[r * m + j])
                    if d < nearest[k - 1] {
                        // insert into the sorted k smallest
                        var p = k - 1
                        while p > 0 && nearest[p - 1] > d { nearest[p] = nearest[p - 1]; p -= 1 }
                        nearest[p] = d
                    }
                }
                let used = nearest.filter { $0.isFinite }
                out[i] = used.isEmpty ? 0 : used.reduce(0.0) { $0 + Double($1).squareRoot() } / Double(used.count)
            }
        }
        return out
    }
}
