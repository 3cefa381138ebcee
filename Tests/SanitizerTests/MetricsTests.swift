import XCTest
@testable import Sanitizer

final class MetricsTests: XCTestCase {
    func testCleanAccuracyAndNonTarget() {
        let labels = [0, 0, 1, 2, 2], preds = [0, 1, 1, 2, 0]
        XCTAssertEqual(Metrics.cleanAccuracy(predictions: preds, labels: labels), 3.0 / 5)
        // non-target (target 0): indices 2, 3, 4 -> correct 2, 3
        XCTAssertEqual(Metrics.cleanAccuracyNonTarget(predictions: preds, labels: labels, target: 0), 2.0 / 3)
    }

    func testASRAndRACountOnlyNonTargetImages() {
        let trueLabels = [0, 1, 1, 2, 3], preds = [0, 0, 1, 0, 2]
        let r = Metrics.attackSuccess(predictions: preds, trueLabels: trueLabels, target: 0)
        XCTAssertEqual(r.asr, 2.0 / 4)   // indices 1, 3 hit the target; index 0 is a target image and does not count
        XCTAssertEqual(r.ra, 1.0 / 4)    // index 2 keeps its true label
    }

    func testDERAndIsolationPrecisionRecall() {
        XCTAssertEqual(Metrics.defenseEffectivenessRate(asrNoDefense: 1.0, asrDefense: 0.02, caNoDefense: 0.9, caDefense: 0.88), (0.98 - 0.02 + 1) / 2, accuracy: 1e-12)
        XCTAssertEqual(Metrics.defenseEffectivenessRate(asrNoDefense: 0.1, asrDefense: 0.5, caNoDefense: 0.8, caDefense: 0.9), 0.5)
        let poisoned = [true, true, false, true, false, false]
        let pr = Metrics.isolationPrecisionRecall(isolated: [0, 2], poisoned: poisoned)
        XCTAssertEqual(pr.precision, 0.5); XCTAssertEqual(pr.recall, 1.0 / 3)
    }
}

final class LabelBalanceTests: XCTestCase {
    func testDirtyLabelPoisoningInflatesTheTargetLabel() {
        // 10 classes of 100, then 10 % of the set relabelled to class 3 from the other nine
        var labels = (0..<1000).map { $0 / 100 }
        var moved = 0
        for i in labels.indices where labels[i] != 3 && i % 9 == 0 && moved < 100 { labels[i] = 3; moved += 1 }
        let b = LabelBalance(labels: labels, classes: 10)
        XCTAssertEqual(b.counts.reduce(0, +), 1000)
        XCTAssertEqual(b.largest, 3)
        XCTAssertEqual(b.counts[3], 200)
        XCTAssertTrue(b.flagged, "excess \(b.excess)")
        XCTAssertEqual(b.excess, 200 / b.median, accuracy: 1e-12)
    }

    func testBalancedOrMildlyImbalancedLabelsAreNotFlagged() {
        let balanced = LabelBalance(labels: (0..<600).map { $0 % 6 }, classes: 6)
        XCTAssertEqual(balanced.median, 100); XCTAssertEqual(balanced.largest, 0); XCTAssertFalse(balanced.flagged)
        // 140 against a median of 100: a clean-label rate or a naturally larger class
        let mild = LabelBalance(labels: (0..<500).map { $0 % 5 } + [Int](repeating: 2, count: 40), classes: 5)
        XCTAssertEqual(mild.largest, 2); XCTAssertEqual(mild.excess, 1.4, accuracy: 1e-12); XCTAssertFalse(mild.flagged)
        // an empty label does not divide by zero, and an odd class count takes the middle value
        let odd = LabelBalance(labels: [0, 0, 1], classes: 3)
        XCTAssertEqual(odd.median, 1); XCTAssertEqual(odd.excess, 2); XCTAssertTrue(odd.flagged)
        XCTAssertEqual(LabelBalance(labels: [], classes: 2).excess, 0)
    }
}
