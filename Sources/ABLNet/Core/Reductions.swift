/// Vectorised reductions over contiguous floats (Swift does not auto-vectorise float sums:
/// no fast-math), with per-call partials combined in Double for accuracy.
@inline(__always)
func sumAndSquares(_ p: UnsafePointer<Float>, _ n: Int) -> (Double, Double) {
    var s = SIMD8<Float>(repeating: 0), q = SIMD8<Float>(repeating: 0)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        s += v
        q += v * v
        i += 8
    }
    var ss = Double(s.sum()), qq = Double(q.sum())
    while i < n { let v = Double(p[i]); ss += v; qq += v * v; i += 1 }
    return (ss, qq)
}

/// Σ a and Σ a*b.
@inline(__always)
func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> (Double, Double) {
    var s = SIMD8<Float>(repeating: 0), d = SIMD8<Float>(repeating: 0)
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        let va = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        let vb = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        s += va
        d += va * vb
        i += 8
    }
    var ss = Double(s.sum()), dd = Double(d.sum())
    while i < n { ss += Double(a[i]); dd += Double(a[i]) * Double(b[i]); i += 1 }
    return (ss, dd)
}

/// Σ g and Σ g*b where g = a where y > 0 and 0 elsewhere (the gradient through a ReLU whose
/// output is y).
@inline(__always)
func gatedSumAndDot(_ a: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> (Double, Double) {
    let zero = SIMD8<Float>(repeating: 0)
    var s = zero, d = zero
    var i = 0
    let ra = UnsafeRawPointer(a), ry = UnsafeRawPointer(y), rb = UnsafeRawPointer(b)
    while i + 8 <= n {
        let vy = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        let va = zero.replacing(with: ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), where: vy .> zero)
        let vb = rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        s += va
        d += va * vb
        i += 8
    }
    var ss = Double(s.sum()), dd = Double(d.sum())
    while i < n {
        if y[i] > 0 { ss += Double(a[i]); dd += Double(a[i]) * Double(b[i]) }
        i += 1
    }
    return (ss, dd)
}

/// Σ a.
@inline(__always)
func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Double {
    var s = SIMD8<Float>(repeating: 0)
    var i = 0
    let ra = UnsafeRawPointer(a)
    while i + 8 <= n { s += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    var ss = Double(s.sum())
    while i < n { ss += Double(a[i]); i += 1 }
    return ss
}

/// out = a + b elementwise (same element count; out may be a or b), split across the workers.
func add(_ a: Tensor, _ b: Tensor, into out: Tensor, _ engine: EngineSettings) {
    let ap = UnsafeSendable(UnsafePointer(a.data)), bp = UnsafeSendable(UnsafePointer(b.data)), op = UnsafeSendable(out.data)
    engine.parallelRanges(out.count) { _, r in
        for i in r { op.value[i] = ap.value[i] + bp.value[i] }
    }
}

extension Tensor {
    /// The index of the largest value in each row of an (N, K) tensor, ties to the lowest index.
    public func rowArgmax() -> [Int] {
        let (n, k) = (shape[0], shape[1])
        return (0..<n).map { i in
            var best = 0
            for j in 1..<k where data[i * k + j] > data[i * k + best] { best = j }
            return best
        }
    }
}
