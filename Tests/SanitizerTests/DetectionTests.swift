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
        XCTAssertEqual(e.signal, .loss)
        XCTAssertGreaterThan(e.excess, 0.4)
    }

    func testWithoutAReferenceThereIsNoVerdict() {
        let d = data(seed: 1)
        // test samples of two labels only
        let keep = d.yt.indices.filter { d.yt[$0] < 2 }
        XCTAssertNil(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: keep.map { d.t[$0] }, testLabels: keep.map { d.yt[$0] }))
        XCTAssertNil(Detection.judge(trainLosses: [], trainLabels: [], testLosses: [], testLabels: []))
    }

    func testTheTailTestIsAnExactHypergeometricTailAtTheTestQuantiles() {
        // P(X >= 2) for X ~ Hypergeometric(N 5, K 2, r 2) = C(2,2) C(3,0) / C(5,2) = 1/10
        XCTAssertEqual(Detection.hypergeometricUpperTail(population: 5, successes: 2, draws: 2, atLeast: 2), 0.1, accuracy: 1e-12)
        XCTAssertEqual(Detection.hypergeometricUpperTail(population: 5, successes: 2, draws: 2, atLeast: 0), 1, accuracy: 1e-12)
        // train: 3 of 4 at or below 1; test: its 20 % quantile is 1 (1 of 5 at or below)
        let e = Detection.tailTest([0.5, 0.7, 1, 9], [1, 2, 3, 4, 5], quantiles: [0.2])
        XCTAssertEqual(e.excess, 0.75 - 0.2, accuracy: 1e-12)
        XCTAssertEqual(e.at, 1)
        XCTAssertEqual(e.trainShare, 0.75)
        XCTAssertEqual(e.testShare, 0.2)
        // 4 values at or below 1 of 9, 3 of them from the 4 training values: P(X >= 3), r = 4
        XCTAssertEqual(e.pValue, Detection.hypergeometricUpperTail(population: 9, successes: 4, draws: 4, atLeast: 3), accuracy: 1e-12)
        // a training set never ahead has no excess; two thresholds double the p-value (Bonferroni)
        XCTAssertEqual(Detection.tailTest([4, 5, 6], [1, 2, 3], quantiles: [0.5]).excess, 0)
        let two = Detection.tailTest([0.5, 0.7, 1, 9], [1, 2, 3, 4, 5], quantiles: [0.2, 0.2001])
        XCTAssertEqual(two.pValue, 2 * e.pValue, accuracy: 1e-12)
    }

    /// Features: label c's samples ~ N(centre_c, 1) in 8 dimensions, centres 6 apart.
    func features(_ labels: [Int], seed: UInt64, strangers: Set<Int> = [], width: Int = 8) -> [Float] {
        var rng = SeededRNG(seed: seed)
        var out: [Float] = []
        for (i, y) in labels.enumerated() {
            // a stranger carries the features of another class (the image it came from)
            let c = strangers.contains(i) ? (y + 1 + i % 9) % 10 : y
            for j in 0..<width { out.append(Float((j == c % width ? 6.0 * Double(1 + c / width) : 0) + Double(rng.normal()))) }
        }
        return out
    }

    func testTheFeatureSignalFindsABackdoorWhoseLossesLookClean() throws {
        // label 4 gets 150 strangers (dirty-label poison) whose losses follow label 4's own
        var d = data(seed: 5)
        var rng = SeededRNG(seed: 77)
        for _ in 0..<150 { d.l.append(Float(exp(-4 + 3.5 * 4 / 9 - 0.3 + Double(rng.normal())))); d.y.append(4) }
        let strangers = Set((d.y.count - 150)..<d.y.count)
        let f = Detection.Features(train: features(d.y, seed: 1, strangers: strangers), test: features(d.yt, seed: 2), width: 8)
        let lossOnly = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt))
        XCTAssertFalse(lossOnly.backdoor, "the losses alone cannot tell: \(String(describing: lossOnly.strongest))")
        let both = try XCTUnwrap(Detection.judge(trainLosses: d.l, trainLabels: d.y, testLosses: d.t, testLabels: d.yt, features: f))
        XCTAssertEqual(both.target, 4, "\(String(describing: both.strongest))")
        XCTAssertEqual(both.strongest?.signal, .featureDistance)
        XCTAssertEqual(both.evidence.count, 20) // 10 labels x 2 signals
        // isolating the target's samples by loss takes clean ones (the strangers' losses look like
        // label 4's own); by the verdict's feature signal it takes the strangers
        let byLoss = Isolation.select(losses: d.l, labels: d.y, ratio: 0.01, strategy: .targetAware, maxRatio: 0.25, verdict: both)
        let lossPrecision = Double(byLoss.indices.filter { strangers.contains($0) }.count) / Double(max(1, byLoss.indices.count))
        let rows = d.y.indices.filter { d.y[$0] == 4 }
        let dist = try XCTUnwrap(NeighbourDistance.scores(trainFeatures: f.train, trainLabels: d.y, testFeatures: f.test, testLabels: d.yt, width: 8, only: 4)[4])
        let byDistance = Isolation.byDistance(rows: rows, distances: dist.train, threshold: try XCTUnwrap(both.strongest).at, total: d.y.count, ratio: 0.01, maxRatio: 0.25)
        let hits = byDistance.filter { strangers.contains($0) }.count
        XCTAssertGreaterThan(Double(hits) / Double(byDistance.count), 0.8, "precision by distance")
        XCTAssertGreaterThan(Double(hits) / 150, 0.8, "recall by distance")
        XCTAssertLessThan(lossPrecision, 0.5, "precision by loss")
        // and clean features raise no alarm
        let clean = data(seed: 6)
        let cf = Detection.Features(train: features(clean.y, seed: 3), test: features(clean.yt, seed: 4), width: 8)
        XCTAssertFalse(try XCTUnwrap(Detection.judge(trainLosses: clean.l, trainLabels: clean.y, testLosses: clean.t, testLabels: clean.yt, features: cf)).backdoor)
    }

    func testNeighbourDistanceIsTheMeanOfTheKNearestAndLeavesTheSampleItselfOut() {
        // one dimension: test points of label 0 at 0, 1, ..., 9; a training point at 20
        let test = (0..<10).map { Float($0) }
        let s = NeighbourDistance.scores(trainFeatures: [20], trainLabels: [0], testFeatures: test, testLabels: [Int](repeating: 0, count: 10), width: 1)
        let k = Double(NeighbourDistance.k)
        XCTAssertEqual(s[0]!.train[0], (0..<NeighbourDistance.k).map { Double(11 + $0) }.reduce(0, +) / k, accuracy: 1e-4)
        // test point 0: its nearest others are 1...k
        XCTAssertEqual(s[0]!.test[0], (1...NeighbourDistance.k).map(Double.init).reduce(0, +) / k, accuracy: 1e-4)
    }
}
