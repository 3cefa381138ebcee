import ABLNet
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
        for statistic in TargetStatistic.allCases {
            let sel = Isolation.select(losses: losses, labels: labels, ratio: 0.1, strategy: .targetAware, targetStatistic: statistic)
            XCTAssertEqual(sel.inferredTarget, 2, statistic.rawValue)
            XCTAssertEqual(sel.indices, Array(40..<52), statistic.rawValue)     // the 12 lowest-loss samples labelled 2, lowest first
            XCTAssertGreaterThan(sel.classSpread[2]!, sel.classSpread[1]!)
            XCTAssertGreaterThan(sel.classModeGap[2]!, sel.classModeGap[1]!)
            XCTAssertGreaterThan(sel.classSeparation[2]!, sel.classSeparation[1]!)
        }
    }

    func testModeGapFindsATargetLabelThatIsMostlyPoisoned() {
        // A clean-label attack poisons 80 % of the target class: label 0's median lies in the
        // backdoor's mode, so its log(p50/p05) spread is narrow, while label 1, a clean class with
        // one wide skewed mode of easy samples, spreads wider. The mixture's mode gap still sees
        // label 0's two populations.
        var rng = SeededRNG(seed: 21)
        var losses: [Float] = [], labels: [Int] = []
        func sample(_ mean: Double, _ sd: Double) -> Float { Float(exp(mean + sd * Double(rng.normal()))) }
        for i in 0..<500 { losses.append(i < 400 ? sample(-6, 0.5) : sample(-0.5, 0.5)); labels.append(0) }
        for _ in 0..<500 {
            let z: Double = abs(Double(rng.normal()))
            losses.append(Float(exp(-4 - 2 * z))); labels.append(1)
        }
        for c in 2...4 { for _ in 0..<500 { losses.append(sample(-1, 0.6)); labels.append(c) } }
        let spread = Isolation.select(losses: losses, labels: labels, ratio: 0.05, strategy: .targetAware, targetStatistic: .spread)
        XCTAssertEqual(spread.inferredTarget, 1, "the spread statistic is fooled (the reason for the mode gap)")
        for statistic in [TargetStatistic.modeGap, .separation] {
            let sel = Isolation.select(losses: losses, labels: labels, ratio: 0.05, strategy: .targetAware, maxRatio: 0.5, targetStatistic: statistic)
            XCTAssertEqual(sel.inferredTarget, 0, statistic.rawValue)
            XCTAssertTrue(sel.indices.allSatisfy { $0 < 400 }, "only the backdoor's mode is isolated (\(statistic.rawValue))")
            XCTAssertGreaterThan(sel.indices.count, 380, statistic.rawValue)
        }
        XCTAssertEqual(Isolation.select(losses: losses, labels: labels, ratio: 0.05, strategy: .targetAware).targetStatistic, .separation,
                       "the default")
    }

    func testSeparationIsNotFooledByAnEasyClassWithABroadLowTail() {
        // The mixtures fitted on full-scale Blend (Fashion-MNIST, 10 % dirty-label): the target
        // label is 47 % poisoned, a narrow mode at log-loss -4.5 (sd 0.53) below its clean one
        // at -1.1 (sd 0.91); Bags, a clean and easy class, fit a broad mode at -5.4 (sd 1.5)
        // holding 85 % and a broad one at -1.0 (sd 1.4). The mode gap names Bags (4.4 against
        // 3.4); the separation, which also weighs how narrow the modes are, the target.
        var rng = SeededRNG(seed: 5)
        var losses: [Float] = [], labels: [Int] = []
        func sample(_ mean: Double, _ sd: Double) -> Float { Float(exp(mean + sd * Double(rng.normal()))) }
        for i in 0..<1000 { losses.append(i < 470 ? sample(-4.5, 0.53) : sample(-1.1, 0.91)); labels.append(0) }
        for i in 0..<1000 { losses.append(i < 850 ? sample(-5.4, 1.5) : sample(-1.0, 1.4)); labels.append(1) }
        for c in 2...4 { for _ in 0..<1000 { losses.append(sample(-0.8, 0.5)); labels.append(c) } }
        let gap = Isolation.select(losses: losses, labels: labels, ratio: 0.05, strategy: .targetAware, targetStatistic: .modeGap)
        XCTAssertEqual(gap.inferredTarget, 1, "the mode gap is fooled (the reason for the separation)")
        let sep = Isolation.select(losses: losses, labels: labels, ratio: 0.05, strategy: .targetAware, maxRatio: 0.5)
        XCTAssertEqual(sep.inferredTarget, 0)
        XCTAssertGreaterThan(sep.classSeparation[0]!, 1.1 * sep.classSeparation[1]!)
        XCTAssertTrue(sep.indices.allSatisfy { labels[$0] == 0 })
        let poisonedIsolated = sep.indices.filter { $0 < 470 }.count
        XCTAssertGreaterThan(Double(poisonedIsolated) / Double(sep.indices.count), 0.95, "the isolated set is the narrow mode")
        XCTAssertGreaterThan(poisonedIsolated, 440)
    }

}

final class BoundedAscentTests: XCTestCase {
    func testCappedAscentStopsPushingSamplesAboveTheCap() {
        let w = Objective.ascent(cap: 1.0).weights(losses: [0.5, 1.5, 0.9, 3])
        XCTAssertEqual(w.weights, [-0.25, 0, -0.25, 0])
    }
}
