import ABLNet
import Foundation
import XCTest
@testable import Sanitizer

final class DetectionTests: XCTestCase {
    /// Ten labels; label c's log-losses ~ N(mu_c, 1) in both sets, with mu from -4 (an easy
    /// class) to -0.5; the training losses sit about `gap` lower (the model saw them). `poisoned`
    /// extra training samples of label `target` have log-loss ~ N(-9, 1): the backdoor.
    func data(seed: UInt64, trainPerLabel: Int = 1000, testPerLabel: Int = 200, gap: Double = 0.3,
              target: Int = 7, poisoned: Int = 0) -> (l: [Float], y: [Int], t: [Float], yt: [Int]) {
        var rng = SeededRNG(seed: seed)
        var l: [Float] = [], y: [Int] = [], t: [Float] = [], yt: [Int] = []
        for c in 0..<10 {
            let mu = -4 + 3.5 * Double(c) / 9
            let labelGap = gap + 0.1 * Double(rng.normal()) // each label's own generalisation gap
            for _ in 0..<trainPerLabel { l.append(Float(exp(mu - labelGap + Double(rng.normal())))); y.append(c) }
            for _ in 0..<testPerLabel { t.append(Float(exp(mu + Double(rng.normal())))); yt.append(c) }
        }
        for _ in 0..<poisoned { l.append(Float(exp(-9 + Double(rng.normal())))); y.append(target) }
        return (l, y, t, yt)
    }

    func testCleanDataIsJudgedCleanOverManySeedsEvenWithAnEasyClass() throws {
        for seed in 0..<20 as Range<UInt64> {
            let d = data(seed: seed)
            let v = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt))
            XCTAssertFalse(v.backdoor, "seed \(seed): \(String(describing: v.strongest))")
            XCTAssertNil(v.target)
            XCTAssertEqual(v.evidence.count, 10)
            XCTAssertGreaterThan(v.familyPValue, Detection.Rule.default.falsePositiveRate)
        }
    }

    func testABackdoorOfOnePercentIsFoundInAnyLabelEvenTheEasiest() throws {
        for target in [0, 3, 9] {
            // Fashion-MNIST's sizes: 600 poisoned of 60600 training samples, 9 % of the target label
            let d = data(seed: UInt64(target), trainPerLabel: 6000, testPerLabel: 1000, target: target, poisoned: 600)
            let v = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt))
            XCTAssertTrue(v.backdoor, "target \(target): \(String(describing: v.strongest))")
            XCTAssertEqual(v.target, target)
            XCTAssertNotEqual(v.runnerUp?.label, target)
        }
    }

    func testAFivePercentBackdoorIsFoundAtTheQuickScale() throws {
        // 500 of 10500: a third of the target label, 200 test samples per label
        let d = data(seed: 11, target: 4, poisoned: 500)
        let v = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt))
        XCTAssertEqual(v.target, 4, "\(String(describing: v.strongest))")
    }

    func testTheShareOfADirtyLabelTargetStandsOutAgainstTheTestSet() throws {
        let d = data(seed: 3, target: 2, poisoned: 1000)
        let v = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt))
        let e = try XCTUnwrap(v.evidence.first { $0.label == 2 })
        XCTAssertGreaterThan(e.shareZ, 5)
        XCTAssertEqual(e.trainCount, 2000)
        XCTAssertGreaterThan(e.excess, 0.4)
    }

    func testWithoutAReferenceThereIsNoVerdict() {
        let d = data(seed: 1)
        // test samples of two labels only
        let keep = d.yt.indices.filter { d.yt[$0] < 2 }
        XCTAssertNil(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: keep.map { d.t[$0] }, testLabels: keep.map { d.yt[$0] }))
        XCTAssertNil(Detection.judge(trainLosses: [], trainLabels: [], testLosses: [], testLabels: []))
    }

    func testLowerTailExcessIsTheLargestGapOfTheTwoSharesUpToTheTestMedian() {
        // train: 3 of 4 at or below 1; test: 1 of 5 at or below 1, 3 of 5 at or below 3 (its median)
        let e = Detection.lowerTailExcess([0.5, 0.7, 1, 9], [1, 2, 3, 4, 5], upTo: 3)
        XCTAssertEqual(e.excess, 0.75 - 0.2, accuracy: 1e-12)
        XCTAssertEqual(e.at, 1)
        XCTAssertEqual(e.trainShare, 0.75)
        XCTAssertEqual(e.testShare, 0.2)
        // beyond the test median nothing counts; a training set that is never ahead has no excess
        XCTAssertEqual(Detection.lowerTailExcess([4, 5, 6], [1, 2, 3], upTo: 2).excess, 0)
        XCTAssertEqual(Detection.lowerTailExcess([2, 2, 9, 9], [1, 3, 3, 3, 3], upTo: 3).excess, 0.5 - 0.2, accuracy: 1e-12)
        XCTAssertEqual(Detection.lowerTailExcess([0, 0, 0, 9], [1, 3, 3, 3, 3], upTo: -1).excess, 0)
    }
}
