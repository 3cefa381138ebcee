import XCTest
@testable import Sanitizer

final class ObjectiveAndIsolationTests: XCTestCase {
    func testLGAWeightsPerGranularity() {
        let losses: [Float] = [0.1, 0.2, 0.9, 1.2]   // mean 0.6
        let batch = Objective.lga(gamma: 0.5, granularity: .batch).weights(losses: losses)
        XCTAssertEqual(batch.weights, [0.25, 0.25, 0.25, 0.25])          // mean above gamma: descend, 1/N each
        XCTAssertEqual(batch.value, 0.6, accuracy: 1e-6)
        let below = Objective.lga(gamma: 0.7, granularity: .batch).weights(losses: losses)
        XCTAssertEqual(below.weights, [-0.25, -0.25, -0.25, -0.25])      // below gamma: ascend
        XCTAssertEqual(below.value, -0.6, accuracy: 1e-6)
        let flooding = Objective.lga(gamma: 0.7, granularity: .flooding).weights(losses: losses)
        XCTAssertEqual(flooding.weights, below.weights)                  // same gradient as batch LGA
        XCTAssertEqual(flooding.value, abs(0.6 - 0.7) + 0.7, accuracy: 1e-6)  // |loss - gamma| + gamma
        let sample = Objective.lga(gamma: 0.5, granularity: .sample).weights(losses: losses)
        XCTAssertEqual(sample.weights, [-0.25, -0.25, 0.25, 0.25])       // sign per sample / N
        XCTAssertEqual(Objective.ascent(cap: nil).weights(losses: losses).weights, [-0.25, -0.25, -0.25, -0.25])
        XCTAssertEqual(Objective.crossEntropy.weights(losses: losses).weights, [0.25, 0.25, 0.25, 0.25])
    }

    func testIsolationPicksExactlyTheLowestLossFraction() {
        let losses: [Float] = [0.9, 0.05, 0.7, 0.01, 0.3, 0.02, 0.8, 0.6, 0.4, 0.5]
        let sel = Isolation.select(losses: losses, labels: Array(repeating: 0, count: 10), ratio: 0.3, strategy: .lowestLoss)
        XCTAssertEqual(sel.indices, [3, 5, 1])   // 0.01, 0.02, 0.05, lowest first
        XCTAssertNil(sel.inferredTarget)
        XCTAssertEqual(Isolation.count(ratio: 0.001, of: 10), 1)   // never empty
        XCTAssertEqual(Isolation.count(ratio: 0.25, of: 10), 3)    // round(2.5) = 3 (to nearest, ties away from zero)
    }

    func testTargetAwareIsolationInfersTheClassWithTheWidestLossSpread() {
        // Class 1 is uniformly easy (low losses, narrow spread); class 2 mixes a very-low-loss
        // group (the backdoor) with normal losses (wide spread); class 0 is uniformly hard.
        var losses: [Float] = [], labels: [Int] = []
        for i in 0..<40 { losses.append(0.001 + Float(i) * 0.00002); labels.append(1) }
        for i in 0..<40 { losses.append(i < 15 ? 0.003 + Float(i) * 0.0001 : 0.3 + Float(i) * 0.01); labels.append(2) }
        for i in 0..<40 { losses.append(1 + Float(i) * 0.01); labels.append(0) }
        // lowest-loss alone would pick the easy class 1
        XCTAssertTrue(Isolation.select(losses: losses, labels: labels, ratio: 0.1, strategy: .lowestLoss).indices.allSatisfy { labels[$0] == 1 })
        let sel = Isolation.select(losses: losses, labels: labels, ratio: 0.1, strategy: .targetAware)
        XCTAssertEqual(sel.inferredTarget, 2)
        XCTAssertEqual(sel.indices, Array(40..<52))     // the 12 lowest-loss samples labelled 2, lowest first
        XCTAssertGreaterThan(sel.classSpread[2]!, sel.classSpread[1]!)
    }

}

final class BoundedAscentTests: XCTestCase {
    func testCappedAscentStopsPushingSamplesAboveTheCap() {
        let w = Objective.ascent(cap: 1.0).weights(losses: [0.5, 1.5, 0.9, 3])
        XCTAssertEqual(w.weights, [-0.25, 0, -0.25, 0])
    }
}
