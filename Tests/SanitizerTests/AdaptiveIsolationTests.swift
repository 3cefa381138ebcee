import ABLNet
import Foundation
import XCTest
@testable import Sanitizer

final class AdaptiveIsolationTests: XCTestCase {
    /// Losses: label 0 holds `poisoned` samples with log-loss ~ N(-5, 1) (the backdoor) and 700
    /// clean ones ~ N(-1, 0.7); labels 1-3 hold 1000 clean samples each ~ N(-1.5, 1).
    func losses(poisoned: Int) -> (losses: [Float], labels: [Int], poisoned: [Bool]) {
        var rng = SeededRNG(seed: 9)
        var l: [Float] = [], y: [Int] = [], p: [Bool] = []
        for _ in 0..<poisoned { l.append(Float(exp(-5 + Double(rng.normal())))); y.append(0); p.append(true) }
        for _ in 0..<700 { l.append(Float(exp(-1 + 0.7 * Double(rng.normal())))); y.append(0); p.append(false) }
        for c in 1...3 { for _ in 0..<1000 { l.append(Float(exp(-1.5 + Double(rng.normal())))); y.append(c); p.append(false) } }
        return (l, y, p)
    }

    func testMixtureFindsTheTwoModesAndABoundaryBetweenThem() throws {
        let d = losses(poisoned: 400)
        let m = try XCTUnwrap(LossMixture.fit(Array(d.losses.prefix(1100))))
        XCTAssertEqual(m.mean0, -5, accuracy: 0.3)
        XCTAssertEqual(m.mean1, -1, accuracy: 0.3)
        XCTAssertTrue(m.boundary > m.mean0 && m.boundary < m.mean1)
        XCTAssertNil(LossMixture.fit([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]))
    }

    func testAdaptiveIsolationTakesTheTargetLabelsLowModeWithinItsBounds() {
        let d = losses(poisoned: 400)
        let sel = Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware, maxRatio: 0.5)
        XCTAssertEqual(sel.inferredTarget, 0)
        let pr = Metrics.isolationPrecisionRecall(isolated: sel.indices, poisoned: d.poisoned)
        XCTAssertGreaterThan(pr.precision, 0.97)
        XCTAssertGreaterThan(pr.recall, 0.9)
        // The bounds hold: at least ratio, at most max_ratio of the set.
        XCTAssertEqual(Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware, maxRatio: 0.02).indices.count, 82)
        XCTAssertEqual(Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.2, strategy: .targetAware, maxRatio: 0.5).indices.count, 820)
        // Without max_ratio: exactly the fraction p.
        XCTAssertEqual(Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware).indices.count, 41)
    }

    func testAGivenTargetIsIsolatedAndTheStatisticsAreStillComputed() {
        // label 0 holds the backdoor; the caller names label 2 (say, a wrong suspicion), then label 0
        let d = losses(poisoned: 400)
        let wrong = Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware, maxRatio: 0.5, knownTarget: 2)
        XCTAssertEqual(wrong.inferredTarget, 2); XCTAssertTrue(wrong.targetGiven)
        XCTAssertTrue(wrong.indices.allSatisfy { d.labels[$0] == 2 })
        XCTAssertNil(wrong.runnerUp, "no choice was made, so there is no runner-up")
        // the statistics still say which label inference would have named
        XCTAssertEqual(wrong.classSeparation.max { $0.value < $1.value }?.key, 0)
        let right = Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware, maxRatio: 0.5, knownTarget: 0)
        let inferred = Isolation.select(losses: d.losses, labels: d.labels, ratio: 0.01, strategy: .targetAware, maxRatio: 0.5)
        XCTAssertEqual(right.indices, inferred.indices)
        XCTAssertFalse(inferred.targetGiven)
    }
}

final class DistanceIsolationTests: XCTestCase {
    /// Farthest first; every sample beyond the threshold, within [ratio, maxRatio] of the set.
    func testTakesTheTargetSamplesBeyondTheThresholdFarthestFirst() {
        let rows = [3, 5, 8, 13, 21, 34]
        let d = [0.5, 2.5, 0.7, 3.0, 2.0, 0.1]
        // three beyond 1.9: 13 (3.0), 5 (2.5), 21 (2.0)
        XCTAssertEqual(Isolation.byDistance(rows: rows, distances: d, threshold: 1.9, total: 100, ratio: 0.01, maxRatio: 0.25), [13, 5, 21])
        // at least ratio of the set: four of 100
        XCTAssertEqual(Isolation.byDistance(rows: rows, distances: d, threshold: 1.9, total: 100, ratio: 0.04, maxRatio: 0.25), [13, 5, 21, 8])
        // at most maxRatio: two of 100
        XCTAssertEqual(Isolation.byDistance(rows: rows, distances: d, threshold: 1.9, total: 100, ratio: 0.01, maxRatio: 0.02), [13, 5])
        // without maxRatio, exactly ratio
        XCTAssertEqual(Isolation.byDistance(rows: rows, distances: d, threshold: 1.9, total: 100, ratio: 0.05, maxRatio: nil), [13, 5, 21, 8, 3])
    }
}
