import XCTest
@testable import ABLNet

/// Central finite differences against the analytic backward, on the scalar L = Σ r ⊙ y with a
/// fixed random r. Float32 arithmetic: step 1e-2 and a tolerance on the relative error of the
/// checked entries (as a vector) of 2e-2, which a wrong term (sign, factor, missing sum) breaks
/// by orders of magnitude.
enum GradCheck {
    static func randomTensor(_ shape: [Int], _ rng: inout SeededRNG, scale: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = rng.normal() * scale }
        return t
    }

    /// L = Σ r_i y_i for the output of `forward`.
    static func loss(_ y: Tensor, _ r: [Float]) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r[i]) }
        return s
    }

    /// Checks d L / d(target) for up to `samples` entries of `target`, where `forward` recomputes
    /// the output and `backward(dy)` runs the analytic pass and returns the gradient for `target`.
    static func check(_ name: String, target: Tensor, samples: Int = 24, step: Float = 1e-2, tolerance: Double = 2e-2, piecewiseLinear: Bool = false,
                      forward: () throws -> Tensor, backward: (Tensor) throws -> Tensor,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SeededRNG(seed: 99, stream: name)
        let y0 = try forward()
        let r = (0..<y0.count).map { _ in rng.normal() }
        let dy = Tensor(shape: y0.shape, values: r)
        let analytic = try backward(dy).array
        XCTAssertEqual(analytic.count, target.count, "\(name): gradient size", file: file, line: line)
        let picks = target.count <= samples ? Array(0..<target.count) : (0..<samples).map { _ in rng.int(below: target.count) }
        var num = [Double](), ana = [Double]()
        func central(_ i: Int, _ h: Float) throws -> Double {
            let old = target.data[i]
            target.data[i] = old + h
            let lp = loss(try forward(), r)
            target.data[i] = old - h
            let lm = loss(try forward(), r)
            target.data[i] = old
            return (lp - lm) / (2 * Double(h))
        }
        func oneSided(_ i: Int, _ h: Float) throws -> Double {
            let old = target.data[i]
            let l0 = loss(try forward(), r)
            target.data[i] = old + h
            let l1 = loss(try forward(), r)
            target.data[i] = old
            return (l1 - l0) / Double(h)
        }
        for i in picks {
            if piecewiseLinear {
                // At a ReLU kink the backward gives the slope of one side: compare with the
                // one-sided slope that is closer (exact for a piecewise-linear function unless a
                // second kink lies within h on that side too).
                let right = try oneSided(i, step), left = try oneSided(i, -step)
                num.append(abs(left - Double(analytic[i])) < abs(right - Double(analytic[i])) ? left : right)
            } else {
                num.append(try central(i, step))
            }
            ana.append(Double(analytic[i]))
        }
        let diff = zip(num, ana).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let scale = max(num.map { $0 * $0 }.reduce(0, +).squareRoot(), ana.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-6)
        XCTAssertLessThan(diff / scale, tolerance, "\(name): relative error \(diff / scale)\nnumeric \(num.prefix(6))\nanalytic \(ana.prefix(6))", file: file, line: line)
    }
}

extension GradCheck {
    /// Directional check for a whole network: (L(t + h v) - L(t - h v)) / 2h against <dL/dt, v>
    /// for a random direction v over every entry of `target`. A sum over all entries is far less
    /// sensitive to the odd ReLU kink than single entries are.
    static func directional(_ name: String, target: Tensor, step: Float = 1e-3, tolerance: Double = 1e-2,
                            forward: () throws -> Tensor, backward: (Tensor) throws -> Tensor,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SeededRNG(seed: 7, stream: name)
        let y0 = try forward()
        let r = (0..<y0.count).map { _ in rng.normal() }
        let g = try backward(Tensor(shape: y0.shape, values: r)).array
        // a unit direction: the total perturbation stays `step`, however many entries there are
        var v = (0..<target.count).map { _ in rng.normal() }
        let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
        v = v.map { $0 / norm }
        let analytic = zip(g, v).map { Double($0) * Double($1) }.reduce(0, +)
        let saved = target.array
        for i in 0..<target.count { target.data[i] = saved[i] + step * v[i] }
        let lp = loss(try forward(), r)
        for i in 0..<target.count { target.data[i] = saved[i] - step * v[i] }
        let lm = loss(try forward(), r)
        for i in 0..<target.count { target.data[i] = saved[i] }
        let numeric = (lp - lm) / (2 * Double(step))
        let rel = abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-6)
        XCTAssertLessThan(rel, tolerance, "\(name): numeric \(numeric) analytic \(analytic)", file: file, line: line)
    }
}

extension EngineSettings {
    /// Two workers, so that the tests run the engine's parallel paths.
    static let tests = EngineSettings(workers: 2)
}
