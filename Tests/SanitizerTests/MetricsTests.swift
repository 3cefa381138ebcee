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
