import ABLNet
import Foundation
import PoisonForge
import XCTest
@testable import Sanitizer

/// A 4-class synthetic set (each class brightens one quadrant), poisoned with BadNets.
func syntheticPoisoned(count: Int = 400, seed: UInt64 = 1) throws -> (split: DatasetSplit, poisoned: [Int], test: DatasetSplit, triggered: DatasetSplit) {
    func make(_ n: Int, _ seed: UInt64) -> DatasetSplit {
        var rng = SeededRNG(seed: seed)
        var px = [UInt8](repeating: 0, count: n * 144), labels = [Int]()
        for i in 0..<n {
            let c = i % 4
            labels.append(c)
            for y in 0..<12 { for x in 0..<12 {
                let inQ = (y < 6) == (c < 2) && (x < 6) == (c % 2 == 0)
                px[i * 144 + y * 12 + x] = UInt8(min(255, (inQ ? 140 : 40) + rng.int(below: 80)))
            } }
        }
        return DatasetSplit(height: 12, width: 12, channels: 1, pixels: px, labels: labels, ids: (0..<n).map { "s\($0)" },
                            sources: ["synthetic"], sourceOf: Array(repeating: 0, count: n), sourceIndex: Array(0..<n))
    }
    let out = try BadNets(target: 0, rate: 0.1, targetMode: .allToOne, size: 3, pattern: BadNets.referencePattern, corner: .bottomRight, margin: 0).poison(train: make(count, seed), test: make(80, seed + 1), classCount: 4, seed: seed)
    let p = out.train.poison!.poisoned
    return (out.train, p.indices.filter { p[$0] }, make(80, seed + 1), out.triggeredTest)
}

final class UnlearningTests: XCTestCase {

    func meanLoss(_ net: Network, _ s: DatasetSplit, _ idx: [Int]) throws -> Float {
        let l = try Evaluation.losses(net, s.subset(idx))
        return l.reduce(0, +) / Float(l.count)
    }

    func trainedModel(_ d: DatasetSplit) throws -> (Network, Trainer) {
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 3, engine: .tests)
        var settings = OptimiserSettings()
        settings.batchSize = 32
        let t = Trainer(net: net, settings: settings, seed: 1, stream: "test")
        for e in 1...3 { _ = try t.epoch(d, EpochPlan(objective: .crossEntropy, lr: 0.05, name: "test epoch \(e)")) }
        return (net, t)
    }

    func testSequentialAscentRaisesTheIsolatedLoss() throws {
        let d = try syntheticPoisoned()
        let (net, t) = try trainedModel(d.split)
        let before = try meanLoss(net, d.split, d.poisoned)
        for e in 1...2 { _ = try t.epoch(d.split, EpochPlan(samples: d.poisoned, objective: .ascent(cap: nil), lr: 0.01, name: "ascent epoch \(e)")) }
        XCTAssertGreaterThan(try meanLoss(net, d.split, d.poisoned), before)
    }

    func testJointRaisesTheIsolatedLossAndKeepsTheRestFromRising() throws {
        let d = try syntheticPoisoned()
        let (net, t) = try trainedModel(d.split)
        let poisonedSet = Set(d.poisoned)
        let rest = (0..<d.split.count).filter { !poisonedSet.contains($0) }
        let isoBefore = try meanLoss(net, d.split, d.poisoned), restBefore = try meanLoss(net, d.split, rest)
        for e in 1...2 {
            _ = try t.jointEpoch(d.split, JointEpochPlan(clean: rest, isolated: d.poisoned, lambda: 1, unlearning: .ascent(cap: logf(4)), lr: 0.01, name: "joint epoch \(e)"))
        }
        XCTAssertGreaterThan(try meanLoss(net, d.split, d.poisoned), isoBefore)
        XCTAssertLessThanOrEqual(try meanLoss(net, d.split, rest), restBefore * 1.05 + 0.01)
    }

    func testJointComplementUnlearnsTheTargetAndKeepsTheRestFromRising() throws {
        let d = try syntheticPoisoned()
        let (net, t) = try trainedModel(d.split)
        let poisonedSet = Set(d.poisoned)
        let rest = (0..<d.split.count).filter { !poisonedSet.contains($0) }
        let isoBefore = try meanLoss(net, d.split, d.poisoned), restBefore = try meanLoss(net, d.split, rest)
        for e in 1...3 {
            _ = try t.jointEpoch(d.split, JointEpochPlan(clean: rest, isolated: d.poisoned, lambda: 1, unlearning: .complement, lr: 0.01, name: "joint epoch \(e)"))
        }
        XCTAssertGreaterThan(try meanLoss(net, d.split, d.poisoned), isoBefore)
        XCTAssertLessThanOrEqual(try meanLoss(net, d.split, rest), restBefore * 1.05 + 0.01)
        // The isolated samples are no longer predicted as the label they were given.
        let preds = try Evaluation.predict(net, d.split.subset(d.poisoned))
        let stillTarget = zip(preds, d.poisoned).filter { $0 == d.split.labels[$1] }.count
        XCTAssertLessThan(Double(stillTarget) / Double(d.poisoned.count), 0.5)
    }

    func testFrozenBatchNormAscentLeavesRunningStatisticsAlone() throws {
        let d = try syntheticPoisoned()
        let (net, t) = try trainedModel(d.split)
        let stats = net.batchNorms.map { $0.1.runningMean.array }
        net.freezeBatchNormStatistics(true)
        _ = try t.epoch(d.split, EpochPlan(samples: d.poisoned, objective: .ascent(cap: nil), lr: 0.01, name: "ascent epoch 1"))
        XCTAssertEqual(net.batchNorms.map { $0.1.runningMean.array }, stats)
    }

    func testDivergenceNamesTheEpoch() throws {
        let d = try syntheticPoisoned(count: 64)
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 3, engine: .tests)
        let t = Trainer(net: net, settings: OptimiserSettings(), seed: 1, stream: "test")
        XCTAssertThrowsError(try {
            for e in 1...5 { _ = try t.epoch(d.split, EpochPlan(objective: .crossEntropy, lr: 1e9, order: .fixed, name: "isolate epoch \(e)")) }
        }()) { e in XCTAssertTrue("\(e)".hasPrefix("isolate epoch ") && "\(e)".contains("NaN"), "\(e)") }
    }

    func testScoresCountASROnNonTargetTriggeredImages() throws {
        let d = try syntheticPoisoned()
        let (net, _) = try trainedModel(d.split)
        let s = try Evaluation.score(net, test: d.test, triggered: d.triggered, target: 0)
        XCTAssertEqual(d.triggered.count, 60)   // 80 test images, 20 of the target class left out
        XCTAssertGreaterThan(s.ca, 0.5)
        let asr = try XCTUnwrap(s.asr), ra = try XCTUnwrap(s.ra)
        XCTAssertEqual(asr + ra <= 1.0 + 1e-9, true)
        // without a triggered set, or without its true labels, the figures are absent rather than 0
        let none = try Evaluation.score(net, test: d.test, triggered: nil, target: nil)
        XCTAssertNil(none.asr)
        XCTAssertNil(none.ra)
        var unlabelled = d.triggered
        unlabelled.poison = nil
        let noTruth = try Evaluation.score(net, test: d.test, triggered: unlabelled, target: 0)
        XCTAssertEqual(noTruth.asr, asr)
        XCTAssertNil(noTruth.ra)
    }
}

final class FlattenTests: XCTestCase {

    func testFlattenMovesConfidentIsolatedSamplesTowardChanceAndNoFurther() throws {
        let d = try syntheticPoisoned()
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 4, seed: 3, engine: .tests)
        var settings = OptimiserSettings()
        settings.batchSize = 32
        let t = Trainer(net: net, settings: settings, seed: 1, stream: "test")
        for e in 1...4 { _ = try t.epoch(d.split, EpochPlan(objective: .crossEntropy, lr: 0.05, name: "t epoch \(e)")) }
        func isoLoss() throws -> Float { let l = try Evaluation.losses(net, d.split.subset(d.poisoned)); return l.reduce(0, +) / Float(l.count) }
        let before = try isoLoss()
        net.freezeBatchNormStatistics(true)
        for e in 1...20 { _ = try t.epoch(d.split, EpochPlan(samples: d.poisoned, objective: .flatten, lr: 0.01, name: "flatten epoch \(e)")) }
        let after = try isoLoss()
        XCTAssertGreaterThan(after, before)
        XCTAssertLessThan(after, logf(4) * 1.5)   // bounded: near chance, not driven to confident mistakes
    }
}

extension EngineSettings {
    /// Two workers, so that the tests run the engine's parallel paths.
    static let tests = EngineSettings(workers: 2)
}
