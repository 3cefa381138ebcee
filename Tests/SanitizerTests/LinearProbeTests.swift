import ABLNet
import XCTest
@testable import Sanitizer

/// The transfer-learning probe: a linear head on fixed features.
final class LinearProbeTests: XCTestCase {
    /// Three classes on the axes of a 4-d feature space with seeded noise; the fourth feature is
    /// a "trigger" dimension. `poisoned` samples of classes 1 and 2 carry the trigger and label 0.
    func data(count: Int, poisoned: Int, seed: UInt64) -> (features: [Float], labels: [Int]) {
        var rng = SeededRNG(seed: seed)
        var f: [Float] = [], y: [Int] = []
        var left = poisoned
        for i in 0..<count {
            let c = i % 3
            var v = [Float](repeating: 0, count: 4)
            v[c] = 2
            for d in 0..<3 { v[d] += 0.3 * (rng.unitFloat() - 0.5) }
            var label = c
            if c != 0 && left > 0 { v[3] = 3; label = 0; left -= 1 }
            f += v
            y.append(label)
        }
        return (f, y)
    }

    func testSeparableClassesAreLearnedAndTrainingIsDeterministic() throws {
        let (f, y) = data(count: 300, poisoned: 0, seed: 1)
        var s = LinearProbe.Settings()
        s.epochs = 5
        let head = try LinearProbe.train(features: f, width: 4, labels: y, classes: 3, settings: s, seed: 7)
        let p = try LinearProbe.predict(head, features: f, width: 4)
        XCTAssertEqual(Metrics.cleanAccuracy(predictions: p, labels: y), 1.0)
        let again = try LinearProbe.train(features: f, width: 4, labels: y, classes: 3, settings: s, seed: 7)
        XCTAssertEqual(head.weight.value.array, again.weight.value.array)
        let other = try LinearProbe.train(features: f, width: 4, labels: y, classes: 3, settings: s, seed: 8)
        XCTAssertNotEqual(head.weight.value.array, other.weight.value.array)
    }

    func testAFeatureSpaceBackdoorIsLearnedOnlyFromPoisonedData() throws {
        // Test inputs: classes 1 and 2 with the trigger dimension set.
        var test: [Float] = []
        for c in [1, 2, 1, 2] { var v = [Float](repeating: 0, count: 4); v[c] = 2; v[3] = 3; test += v }
        var s = LinearProbe.Settings()
        s.epochs = 20
        let (pf, py) = data(count: 300, poisoned: 30, seed: 2)
        let backdoored = try LinearProbe.train(features: pf, width: 4, labels: py, classes: 3, settings: s, seed: 3)
        XCTAssertEqual(try LinearProbe.predict(backdoored, features: test, width: 4), [0, 0, 0, 0])
        let (cf, cy) = data(count: 300, poisoned: 0, seed: 2)
        let clean = try LinearProbe.train(features: cf, width: 4, labels: cy, classes: 3, settings: s, seed: 3)
        XCTAssertEqual(try LinearProbe.predict(clean, features: test, width: 4), [1, 2, 1, 2])
    }

    func testTriggerShiftAndClassSpread() {
        // Two classes in 2-d: class 0 at (0, ±1), class 1 at (4, ±1): each 1 from its centroid.
        let clean: [Float] = [0, 1, 0, -1, 4, 1, 4, -1]
        // Triggered copies of images 0 and 2, moved by 3 and 4.
        let triggered: [Float] = [3, 1, 4, 5]
        let r = LinearProbe.triggerShift(clean: clean, labels: [0, 0, 1, 1], triggered: triggered, originals: [0, 2], width: 2, classes: 2)
        XCTAssertEqual(r.spread, 1, accuracy: 1e-9)
        XCTAssertEqual(r.shift, 3.5, accuracy: 1e-9)
    }

    func testMismatchedFeaturesAreAnError() {
        XCTAssertThrowsError(try LinearProbe.train(features: [1, 2, 3], width: 2, labels: [0, 1], classes: 2, settings: .init(), seed: 1))
    }
}
