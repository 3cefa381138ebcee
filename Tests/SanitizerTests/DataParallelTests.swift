import ABLNet
import Datasets
import Foundation
import PoisonForge
@testable import Sanitizer
import XCTest

final class DataParallelTests: XCTestCase {
    /// 8x8 grey images of 3 classes, `n` of them.
    static func split(_ n: Int) -> DatasetSplit {
        var rng = SeededRNG(seed: 7)
        let px = (0..<(n * 64)).map { i in UInt8((i / 64 % 3) * 60 + rng.int(below: 100)) }
        return DatasetSplit(height: 8, width: 8, channels: 1, pixels: px, labels: (0..<n).map { $0 % 3 }, ids: (0..<n).map { "s\($0)" },
                            sources: ["synthetic"], sourceOf: Array(repeating: 0, count: n), sourceIndex: Array(0..<n))
    }

    /// The parameters and BatchNorm statistics after two epochs (by default of LGA, whose weights
    /// come from the whole batch's losses) with augmentation (random numbers per sample), on
    /// `ranks` ranks.
    static func trainedState(ranks: Int, samples: Int, batch: Int, objective: Objective = .lga(gamma: 0.5, granularity: .sample)) throws -> [[Float]] {
        let data = split(samples)
        return try ThreadRanks.run(ranks) { group in
            let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 3, seed: 3, engine: EngineSettings())
            var settings = OptimiserSettings()
            settings.batchSize = batch
            let trainer = Trainer(net: net, settings: settings, seed: 5, stream: "t", group: group)
            for e in 0..<2 {
                try trainer.epoch(data, EpochPlan(objective: objective, lr: 0.05, augment: .reference, name: "epoch \(e)"))
            }
            return (net.parameters.map(\.1.value) + net.buffers.map(\.1)).flatMap(\.array)
        }
    }

    func testTwoRanksTakeTheStepsOfOneProcessUpToSummationOrder() throws {
        let one = try Self.trainedState(ranks: 1, samples: 20, batch: 8)[0]
        let two = try Self.trainedState(ranks: 2, samples: 20, batch: 8)
        XCTAssertEqual(two[0], two[1], "the replicas hold the same bits")
        let worst = zip(one, two[0]).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-4, "2 ranks differ from 1 only by the order of float sums")
        XCTAssertGreaterThan(zip(one, Self.trainedStateUntrained()).map { abs($0 - $1) }.max() ?? 0, 1e-3, "the epoch moved the weights")
    }

    func testUnevenShardsAndABatchSmallerThanTheRanks() throws {
        // 3 ranks: batches of 8 split 2/3/3, and the last batch (2 samples) runs whole on every
        // rank. (A last batch of 1 sample is left out: BatchNorm over one image's few values
        // amplifies rounding differences by orders of magnitude, on one rank as on three.)
        let one = try Self.trainedState(ranks: 1, samples: 18, batch: 8, objective: .crossEntropy)[0]
        let three = try Self.trainedState(ranks: 3, samples: 18, batch: 8, objective: .crossEntropy)
        XCTAssertEqual(three[0], three[2])
        let worst = zip(one, three[0]).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5)
    }

    func testShardedEvaluationGivesEveryRankTheValuesOfOneProcess() throws {
        let data = Self.split(600)   // 3 batches of 256: shares of 2 and 1 batches
        let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 3, seed: 3, engine: EngineSettings())
        let losses = try Evaluation.losses(net, data), preds = try Evaluation.predict(net, data)
        let features = try LinearProbe.features(net, data)
        let sharded = try ThreadRanks.run(2) { group in
            let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 3, seed: 3, engine: EngineSettings())
            return (try Evaluation.losses(net, data, group: group), try Evaluation.predict(net, data, group: group),
                    try LinearProbe.features(net, data, group: group))
        }
        for r in sharded {
            XCTAssertEqual(r.0, losses)
            XCTAssertEqual(r.1, preds)
            XCTAssertEqual(r.2.values, features.values)
            XCTAssertEqual(r.2.width, features.width)
        }
    }

    func testCLAndFCSplitTheirImagesOverRanksAndGiveTheBytesOfOneProcess() throws {
        // 300 images of class 0 (the target): three chunks of 128, 128 and 44, over 2 ranks
        let data = Self.split(900)
        let net = Architecture.smallCNN.build(inputChannels: 1, numClasses: 3, seed: 4, engine: EngineSettings())
        let attacks: [any Attack] = [LabelConsistent(target: 0, rate: 1, rateBase: .targetClass, epsilon: 8.0 / 255, stepSize: 1.5 / 255, steps: 2, patchSize: 2),
                                     FeatureCollision(target: 0, rate: 1, rateBase: .targetClass, epsilon: 16.0 / 255, stepSize: 2.0 / 255, steps: 2,
                                                      patch: BadNets(target: 0, rate: 1, targetMode: .allToOne, size: 4,
                                                                     pattern: BadNets.pattern(named: "checkerboard", size: 4)!, corner: .bottomRight, margin: 0))]
        for attack in attacks {
            let one = try attack.poison(train: data, test: Self.split(30), context: AttackContext(classCount: 3, seed: 2, surrogate: net))
            XCTAssertNotEqual(one.train.pixels, data.pixels, attack.kind)
            let shared = UnsafeSendable(attack)
            let two = try ThreadRanks.run(2) { group in
                let replica = Architecture.smallCNN.build(inputChannels: 1, numClasses: 3, seed: 4, engine: EngineSettings())
                return try shared.value.poison(train: data, test: Self.split(30), context: AttackContext(classCount: 3, seed: 2, surrogate: replica, group: group))
            }
            for r in two {
                XCTAssertEqual(r.train.pixels, one.train.pixels, attack.kind)
                XCTAssertEqual(r.train.poison?.poisoned, one.train.poison?.poisoned, attack.kind)
            }
        }
    }

    static func trainedStateUntrained() -> [Float] {
        let net = Architecture.wrn16_1.build(inputChannels: 1, numClasses: 3, seed: 3, engine: EngineSettings())
        return (net.parameters.map(\.1.value) + net.buffers.map(\.1)).flatMap(\.array)
    }
}
