import Foundation

/// A two-component Gaussian mixture on log-losses, for the adaptive isolation ratio: within the
/// backdoor's target label, the poisoned samples (learned far faster than anything else) form a
/// low-loss mode and the label's clean samples a high-loss one. The boundary between them says
/// how many samples to isolate, instead of a fixed fraction p.
public struct LossMixture: Sendable, Equatable {
    /// Means, standard deviations and weight of the low (0) and high (1) components, in log-loss.
    public var mean0: Double, std0: Double, mean1: Double, std1: Double, weight0: Double
    /// The log-loss between the means where both components are equally likely.
    public var boundary: Double

    /// Otsu's threshold on sorted values: the split that maximises the between-class variance.
    static func otsu(_ sorted: [Double]) -> Int {
        let n = sorted.count
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + sorted[i] }
        var best = (v: -1.0, k: n / 2)
        for k in 1..<n {
            let w0 = Double(k) / Double(n), m0 = prefix[k] / Double(k), m1 = (prefix[n] - prefix[k]) / Double(n - k)
            let v = w0 * (1 - w0) * (m0 - m1) * (m0 - m1)
            if v > best.v { best = (v, k) }
        }
        return best.k
    }

    /// Fits the mixture to log(max(loss, 1e-12)) by EM (200 iterations), starting from Otsu's
    /// split. Nil for fewer than 10 values or when the two modes cannot be told apart.
    public static func fit(_ losses: [Float]) -> LossMixture? {
        let x = losses.map { log(max(Double($0), 1e-12)) }.sorted()
        guard x.count >= 10, x.first! < x.last! else { return nil }
        let k = otsu(x)
        func stats(_ s: ArraySlice<Double>) -> (Double, Double) {
            let m = s.reduce(0, +) / Double(s.count)
            return (m, max(1e-3, (s.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(s.count)).squareRoot()))
        }
        var (m0, s0) = stats(x[..<k]), (m1, s1) = stats(x[k...])
        var w0 = Double(k) / Double(x.count)
        func density(_ v: Double, _ m: Double, _ s: Double) -> Double { exp(-0.5 * (v - m) * (v - m) / (s * s)) / s }
        for _ in 0..<200 {
            var r0 = 0.0, a0 = 0.0, a1 = 0.0
            var resp = [Double](repeating: 0, count: x.count)
            for (i, v) in x.enumerated() {
                let p0 = w0 * density(v, m0, s0), p1 = (1 - w0) * density(v, m1, s1)
                let r = p0 + p1 > 0 ? p0 / (p0 + p1) : (v < (m0 + m1) / 2 ? 1 : 0)
                resp[i] = r; r0 += r; a0 += r * v; a1 += (1 - r) * v
            }
            let r1 = Double(x.count) - r0
            guard r0 > 1e-9, r1 > 1e-9 else { return nil }
            m0 = a0 / r0; m1 = a1 / r1
            var v0 = 0.0, v1 = 0.0
            for (i, v) in x.enumerated() { v0 += resp[i] * (v - m0) * (v - m0); v1 += (1 - resp[i]) * (v - m1) * (v - m1) }
            s0 = max(1e-3, (v0 / r0).squareRoot()); s1 = max(1e-3, (v1 / r1).squareRoot())
            w0 = r0 / Double(x.count)
        }
        if m0 > m1 { swap(&m0, &m1); swap(&s0, &s1); w0 = 1 - w0 }
        guard m1 - m0 > 1e-6 else { return nil }
        // Bisection for w0 N(x; m0, s0) = w1 N(x; m1, s1) between the means.
        func f(_ v: Double) -> Double { w0 * density(v, m0, s0) - (1 - w0) * density(v, m1, s1) }
        var lo = m0, hi = m1
        if f(lo) <= 0 || f(hi) >= 0 {
            lo = (m0 + m1) / 2; hi = lo // no sign change: the midpoint
        }
        for _ in 0..<100 where hi - lo > 1e-12 {
            let mid = (lo + hi) / 2
            if f(mid) > 0 { lo = mid } else { hi = mid }
        }
        return LossMixture(mean0: m0, std0: s0, mean1: m1, std1: s1, weight0: w0, boundary: (lo + hi) / 2)
    }
}
