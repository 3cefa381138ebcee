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

    func testTargetAwareIsolationKeepsOnlyTheInferredClass() {
        // lowest four: labels 2, 2, 1, 2 -> target 2; then the lowest-loss samples with label 2
        let losses: [Float] = [0.01, 0.02, 0.03, 0.04, 0.5, 0.6, 0.05, 0.9]
        let labels = [2, 2, 1, 2, 0, 2, 1, 2]
        let sel = Isolation.select(losses: losses, labels: labels, ratio: 0.5, strategy: .targetAware)
        XCTAssertEqual(sel.inferredTarget, 2)
        XCTAssertEqual(sel.indices, [0, 1, 3, 5])
    }
}

final class BoundedAscentTests: XCTestCase {
    func testCappedAscentStopsPushingSamplesAboveTheCap() {
        let w = Objective.ascent(cap: 1.0).weights(losses: [0.5, 1.5, 0.9, 3])
        XCTAssertEqual(w.weights, [-0.25, 0, -0.25, 0])
    }
}
