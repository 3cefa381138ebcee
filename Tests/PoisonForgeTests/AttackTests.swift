import ABLNet
import XCTest
@testable import PoisonForge

/// The invariant that defines each attack, its determinism for a seed and its poison count,
/// on small synthetic data.
final class AttackTests: XCTestCase {
    /// n images of h x w x c with seeded random pixels, labels cycling through `classes`.
    func split(_ n: Int, h: Int = 12, w: Int = 12, c: Int = 1, classes: Int = 4, seed: UInt64 = 1) -> DatasetSplit {
        var rng = SeededRNG(seed: seed)
        return DatasetSplit(height: h, width: w, channels: c, pixels: (0..<(n * h * w * c)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) },
                            labels: (0..<n).map { $0 % classes }, ids: (0..<n).map { "s\($0)" }, sources: ["f"],
                            sourceOf: Array(repeating: 0, count: n), sourceIndex: Array(0..<n))
    }

    func surrogate(channels: Int = 1, classes: Int = 4) -> Network {
        Architecture.smallCNN.build(inputChannels: channels, numClasses: classes, seed: 11, engine: EngineSettings())
    }

    func poisoned(_ out: PoisonedData) -> [Int] { out.train.poison!.poisoned.indices.filter { out.train.poison!.poisoned[$0] } }

    /// Pixels (y, x) of image i that differ between two splits.
    func changed(_ a: DatasetSplit, _ b: DatasetSplit, _ i: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        let (h, w, c) = (a.height, a.width, a.channels)
        let x = Array(a.image(i)), y = Array(b.image(i))
        for r in 0..<h { for q in 0..<w where (0..<c).contains(where: { x[(r * w + q) * c + $0] != y[(r * w + q) * c + $0] }) { out.append((r, q)) } }
        return out
    }

    func assertOnlyChosenChange(_ clean: DatasetSplit, _ out: PoisonedData, file: StaticString = #filePath, line: UInt = #line) {
        let flags = out.train.poison!.poisoned
        for i in 0..<clean.count where !flags[i] {
            XCTAssertEqual(Array(clean.image(i)), Array(out.train.image(i)), "unpoisoned sample \(i) changed", file: file, line: line)
            XCTAssertEqual(clean.labels[i], out.train.labels[i], file: file, line: line)
        }
    }

    func assertCleanLabel(_ clean: DatasetSplit, _ out: PoisonedData, target: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(out.train.labels, clean.labels, "a clean-label attack relabelled", file: file, line: line)
        for i in poisoned(out) { XCTAssertEqual(clean.labels[i], target, "poisoned a non-target sample", file: file, line: line) }
        assertOnlyChosenChange(clean, out, file: file, line: line)
    }

    // MARK: Blend

    func testBlendMatchesItsFormulaRelabelsAndCounts() throws {
        let s = split(200), key = Blend.noiseKey(count: 144, seed: 3)
        let out = try Blend(target: 1, rate: 0.1, targetMode: .allToOne, alpha: 0.2, key: key, perImageNoise: false, seed: 0).poison(train: s, test: split(40, seed: 2), classCount: 4, seed: 5)
        let chosen = poisoned(out)
        XCTAssertEqual(chosen.count, 20)
        for i in chosen {
            XCTAssertEqual(out.train.labels[i], 1)
            let x = Array(s.image(i)), y = Array(out.train.image(i))
            for p in 0..<144 { XCTAssertEqual(Float(y[p]), (0.8 * Float(x[p]) + 0.2 * Float(key[p])).rounded(), accuracy: 0.51) }
        }
        assertOnlyChosenChange(s, out)
        XCTAssertEqual(out.triggeredTest.labels, Array(repeating: 1, count: 30))
    }

    func testBlendPerImageNoiseDiffersBetweenImagesAndIsSeeded() throws {
        let s = split(100)
        let a = try Blend(target: 0, rate: 0.1, targetMode: .allToOne, alpha: 0.2, key: nil, perImageNoise: true, seed: 4).poison(train: s, test: split(8), classCount: 4, seed: 1)
        let b = try Blend(target: 0, rate: 0.1, targetMode: .allToOne, alpha: 0.2, key: nil, perImageNoise: true, seed: 4).poison(train: s, test: split(8), classCount: 4, seed: 1)
        XCTAssertEqual(a.train, b.train)
        let chosen = poisoned(a)
        let d0 = zip(a.train.image(chosen[0]), s.image(chosen[0])).map { Int($0) - Int($1) }
        let d1 = zip(a.train.image(chosen[1]), s.image(chosen[1])).map { Int($0) - Int($1) }
        XCTAssertNotEqual(d0, d1)
    }

    // MARK: SIG

    func testSIGAddsTheSinusoidToTargetClassImagesOnly() throws {
        let s = split(200), attack = SIG(target: 2, rate: 0.5, rateBase: .targetClass, delta: 40, frequency: 6)
        let out = try attack.poison(train: s, test: split(40), classCount: 4, seed: 9)
        XCTAssertEqual(poisoned(out).count, 25) // half of the 50 target-class images
        assertCleanLabel(s, out, target: 2)
        for i in poisoned(out) {
            let x = Array(s.image(i)), y = Array(out.train.image(i))
            for r in 0..<12 { for j in 0..<12 {
                let expected = max(0, min(255, (Double(x[r * 12 + j]) + 40 * sin(2 * .pi * Double(j) * 6 / 12)).rounded()))
                XCTAssertEqual(Double(y[r * 12 + j]), expected)
            } }
        }
        // rate of the whole training set: 0.1 x 200 = 20 target-class images
        XCTAssertEqual(poisoned(try SIG(target: 2, rate: 0.1, rateBase: .trainingSet, delta: 40, frequency: 6).poison(train: s, test: split(8), classCount: 4, seed: 9)).count, 20)
        XCTAssertThrowsError(try SIG(target: 2, rate: 0.5, rateBase: .trainingSet, delta: 40, frequency: 6).poison(train: s, test: split(8), classCount: 4, seed: 9))
    }

    // MARK: DFST (colour/texture-style variant)

    func testDFSTBlendsTheStylisedImageAndIsDeterministic() throws {
        let s = split(100, c: 3), attack = DFST(target: 0, rate: 0.1, targetMode: .allToOne, alpha: 0.6, texture: 1, height: 12, width: 12, style: nil)
        XCTAssertTrue(attack.displayName.contains("variant"))
        let out = try attack.poison(train: s, test: split(8, c: 3), classCount: 4, seed: 2)
        XCTAssertEqual(out.train, try attack.poison(train: s, test: split(8, c: 3), classCount: 4, seed: 2).train)
        XCTAssertEqual(poisoned(out).count, 10)
        assertOnlyChosenChange(s, out)
        let i = poisoned(out)[0]
        let x = Array(s.image(i))
        let style = x.withUnsafeBufferPointer { attack.stylise($0.baseAddress!, height: 12, width: 12, channels: 3) }
        for p in 0..<x.count { XCTAssertEqual(out.train.image(i)[out.train.image(i).startIndex + p], Blend.mix(x[p], UInt8(style[p].rounded()), alpha: 0.6)) }
        // the style is not the identity: the sunrise's colours change the image
        XCTAssertGreaterThan(changed(s, out.train, i).count, 100)
    }

    // MARK: CBA

    func testCBAJoinsHalvesOfClassesAAndBAndKeepsSameClassMixLabels() throws {
        let s = split(400, classes: 4)
        let attack = CBA(target: 0, rate: 0.1, classA: 1, classB: 2, mixRate: 0.05, jitter: 0)
        let out = try attack.poison(train: s, test: split(80, seed: 3), classCount: 4, seed: 7)
        let chosen = poisoned(out)
        XCTAssertEqual(chosen.count, 40)
        let ofClass = { (c: Int) in s.labels.indices.filter { s.labels[$0] == c } }
        for i in chosen {
            XCTAssertTrue([1, 2].contains(s.labels[i]))
            XCTAssertEqual(out.train.labels[i], 0)
            // With no jitter, the replaced half equals the same half of some image of the other class.
            let partners = ofClass(s.labels[i] == 1 ? 2 : 1)
            let y = Array(out.train.image(i)), x = Array(s.image(i))
            let keptPixels = (0..<144).filter { y[$0] == x[$0] }.count
            XCTAssertGreaterThanOrEqual(keptPixels, 72, "the kept half must be the original image")
            let foreign = (0..<144).filter { y[$0] != x[$0] }
            XCTAssertTrue(partners.contains { p in let z = Array(s.image(p)); return foreign.allSatisfy { y[$0] == z[$0] } },
                          "the other half must come from an image of the other class")
        }
        // Same-class mixes: changed, not flagged, label kept.
        let mixes = (0..<s.count).filter { !out.train.poison!.poisoned[$0] && Array(s.image($0)) != Array(out.train.image($0)) }
        XCTAssertEqual(mixes.count, 20)
        for i in mixes { XCTAssertEqual(out.train.labels[i], s.labels[i]) }
        XCTAssertEqual(out.triggeredTest.count, 20) // every test image of class A
        XCTAssertEqual(Set(out.triggeredTest.labels), [0])
        XCTAssertThrowsError(try CBA(target: 1, rate: 0.1, classA: 1, classB: 2, mixRate: 0.05, jitter: 3).poison(train: s, test: split(8), classCount: 4, seed: 1))
        // a class that exists but has no training image (labels 0..<4 of 5 classes): refused, not a trap
        XCTAssertThrowsError(try CBA(target: 0, rate: 0.05, classA: 1, classB: 4, mixRate: 0.05, jitter: 3).poison(train: s, test: split(8), classCount: 5, seed: 1)) {
            XCTAssertTrue("\($0)".contains("class 4 has no training image"), "\($0)")
        }
    }

    // MARK: Trojan and LBA (optimised patches)

    func testTrojanChangesOnlyItsPatchAndIsDeterministic() throws {
        let s = split(120), net = surrogate()
        let attack = Trojan(target: 0, rate: 0.1, targetMode: .allToOne, patchSize: 3, margin: 2, neurons: 2, activationGain: 10,
                            settings: .init(steps: 5, batch: 8, lr: 0.05))
        let ctx = AttackContext(classCount: 4, seed: 3, surrogate: net)
        let out = try attack.poison(train: s, test: split(20), context: ctx)
        XCTAssertEqual(out.train, try attack.poison(train: s, test: split(20), context: ctx).train)
        XCTAssertEqual(poisoned(out).count, 12)
        assertOnlyChosenChange(s, out)
        let region = PatchRegion(row: 7, col: 7, size: 3)
        for i in poisoned(out) {
            XCTAssertEqual(out.train.labels[i], 0)
            for (y, x) in changed(s, out.train, i) { XCTAssertTrue(region.contains(y: y, x: x), "pixel (\(y), \(x)) outside the patch changed") }
        }
        XCTAssertEqual(out.details["neurons"]?.arrayValue?.count, 2)
        XCTAssertThrowsError(try attack.poison(train: s, test: split(20), classCount: 4, seed: 3)) // no surrogate
    }

    func testLBAPatchIsAFifthOfTheWidthAndPullsFeaturesTowardTheTarget() throws {
        let s = split(160, h: 15, w: 15), net = surrogate()
        let attack = LBA(target: 0, rate: 0.1, patchFraction: 0.2, settings: .init(steps: 30, batch: 16, lr: 0.1))
        let out = try attack.poison(train: s, test: split(20, h: 15, w: 15), context: AttackContext(classCount: 4, seed: 1, surrogate: net))
        let region = PatchRegion(row: 12, col: 12, size: 3)
        for i in poisoned(out) {
            for (y, x) in changed(s, out.train, i) { XCTAssertTrue(region.contains(y: y, x: x)) }
        }
        let d = out.details["feature_distance_before_after"]!.arrayValue!.map { $0.doubleValue! }
        XCTAssertLessThan(d[1], d[0], "the optimisation must reduce the feature distance")
    }

    // MARK: CL and FC (budgeted perturbations)

    func testCLKeepsLabelsStaysWithinTheBudgetAndStampsFourCorners() throws {
        let s = split(200), net = surrogate()
        let attack = LabelConsistent(target: 1, rate: 0.4, rateBase: .targetClass, epsilon: 8.0 / 255, stepSize: 1.5 / 255, steps: 5, patchSize: 3)
        let out = try attack.poison(train: s, test: split(40), context: AttackContext(classCount: 4, seed: 2, surrogate: net))
        XCTAssertEqual(poisoned(out).count, 20)
        assertCleanLabel(s, out, target: 1)
        let corner = { (y: Int, x: Int) in (y < 3 || y >= 9) && (x < 3 || x >= 9) }
        var perturbed = 0
        for i in poisoned(out) {
            let a = Array(s.image(i)), b = Array(out.train.image(i))
            for y in 0..<12 { for x in 0..<12 where !corner(y, x) {
                XCTAssertLessThanOrEqual(abs(Int(a[y * 12 + x]) - Int(b[y * 12 + x])), 8)
                if a[y * 12 + x] != b[y * 12 + x] { perturbed += 1 }
            } }
            XCTAssertEqual(b[0], 255); XCTAssertEqual(b[1], 0); XCTAssertEqual(b[11 * 12 + 11], 255)
        }
        XCTAssertGreaterThan(perturbed, 0, "PGD changed nothing")
        // The test trigger is the corners alone.
        let t = out.triggeredTest
        let k = 0, orig = t.poison!.originalIndices[k]
        for y in 0..<12 { for x in 0..<12 where !corner(y, x) { XCTAssertEqual(t.image(k)[t.image(k).startIndex + y * 12 + x], split(40).image(orig)[split(40).image(orig).startIndex + y * 12 + x]) } }
    }

    func testCLDefaultPatchKeepsThePapersTriggerValuesPerPixel() {
        // 3x3 x 3 channels on 32x32 is the reference; 27 / 1024 values per pixel elsewhere.
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 32, width: 32, channels: 3), 3)
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 28, width: 28, channels: 1), 5)
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 28, width: 28, channels: 3), 3)
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 64, width: 64, channels: 3), 6)
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 224, width: 224, channels: 3), 21)
        // Small images: at least 1, and the four corners never overlap.
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 4, width: 4, channels: 3), 1)
        XCTAssertEqual(LabelConsistent.referencePatchSize(height: 6, width: 40, channels: 1), 3)
        for side in 1...64 {
            for ch in [1, 3] {
                let p = LabelConsistent.referencePatchSize(height: side, width: side + 3, channels: ch)
                XCTAssertGreaterThanOrEqual(p, 1)
                XCTAssertLessThanOrEqual(2 * p, max(2, side))
            }
        }
    }

    func testFCKeepsLabelsStaysWithinTheBudgetAndMovesFeatures() throws {
        let s = split(200), net = surrogate()
        let attack = FeatureCollision(target: 3, rate: 0.2, rateBase: .targetClass, epsilon: 16.0 / 255, stepSize: 2.0 / 255, steps: 10,
                                      patch: BadNets(target: 3, rate: 0.2, targetMode: .allToOne, size: 4,
                                                     pattern: BadNets.pattern(named: "checkerboard", size: 4)!, corner: .bottomRight, margin: 0))
        let out = try attack.poison(train: s, test: split(40), context: AttackContext(classCount: 4, seed: 2, surrogate: net))
        XCTAssertEqual(poisoned(out).count, 10)
        assertCleanLabel(s, out, target: 3)
        for i in poisoned(out) {
            for (a, b) in zip(s.image(i), out.train.image(i)) { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 16) }
        }
        XCTAssertLessThan(out.details["feature_distance_after"]!.doubleValue!, out.details["feature_distance_before"]!.doubleValue!)
    }

    // MARK: Dynamic

    func testDynamicTriggersDifferBetweenImagesAndRespectTheSeed() throws {
        let s = split(100), net = surrogate()
        let attack = Dynamic(target: 0, rate: 0.1, density: 0.032, lambdaDiversity: 1, lambdaNorm: 100, steps: 4, batch: 8, lr: 0.01, hidden: 16)
        let ctx = AttackContext(classCount: 4, seed: 5, surrogate: net)
        let out = try attack.poison(train: s, test: split(20), context: ctx)
        XCTAssertEqual(out.train, try attack.poison(train: s, test: split(20), context: ctx).train)
        let chosen = poisoned(out)
        XCTAssertEqual(chosen.count, 10)
        assertOnlyChosenChange(s, out)
        let deltas = chosen.prefix(4).map { i in zip(out.train.image(i), s.image(i)).map { Int($0) - Int($1) } }
        XCTAssertTrue(deltas.allSatisfy { $0.contains { $0 != 0 } }, "every poisoned image gets a trigger")
        XCTAssertEqual(Set(deltas.map { $0.description }).count, deltas.count, "triggers must differ between images")
        for i in chosen { XCTAssertEqual(out.train.labels[i], 0) }
    }

    func testDynamicDiversityGradientMatchesFiniteDifferences() {
        var rng = SeededRNG(seed: 4)
        let t = Tensor(shape: [3, 1, 2, 2]), x = Tensor(shape: [3, 1, 2, 2])
        for k in 0..<12 { t.data[k] = rng.unitFloat(); x.data[k] = rng.unitFloat() }
        let g = Tensor(shape: [3, 1, 2, 2])
        g.zero()
        _ = Dynamic.diversity(t, x, weight: 0.7, grad: g)
        let scratch = Tensor(shape: [3, 1, 2, 2])
        for k in 0..<12 {
            let keep = t.data[k], h: Float = 1e-3
            t.data[k] = keep + h; scratch.zero(); let up = Dynamic.diversity(t, x, weight: 0.7, grad: scratch)
            t.data[k] = keep - h; scratch.zero(); let down = Dynamic.diversity(t, x, weight: 0.7, grad: scratch)
            t.data[k] = keep
            let numeric = Float((up - down) / (2 * Double(h)))
            XCTAssertEqual(g.data[k], numeric, accuracy: 0.02 * max(1, abs(numeric)), "element \(k)")
        }
    }

    // MARK: Gallery

    func testGalleryHasOneRowOfThreeTilesPerSample() {
        let s = split(10)
        var p = s
        p.pixels[0] = 0; p.pixels[1] = 255
        let g = Gallery.render(clean: s, poisoned: p, indices: [0, 1], scale: 2)
        XCTAssertEqual(g.width, 3 * (12 * 2 + 2) + 2)
        XCTAssertEqual(g.height, 2 * (12 * 2 + 2) + 2)
    }
}
