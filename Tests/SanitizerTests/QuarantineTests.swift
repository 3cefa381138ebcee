import XCTest
@testable import Sanitizer

final class QuarantineTests: XCTestCase {
    func testMarginTakesTheIsolatedLabelsNextLowestLossesOutsideTheIsolatedSet() {
        // label 2 holds most isolated samples; its other samples ranked by loss
        let labels = [2, 2, 2, 1, 2, 2, 0, 2, 2, 1]
        let losses: [Float] = [0.1, 0.2, 0.9, 0.01, 0.3, 0.5, 0.02, 0.4, 0.3, 0.6]
        let isolated = [0, 1, 3]
        XCTAssertEqual(Quarantine.label(isolated: isolated, labels: labels), 2)
        // ratio 1: 3 more, lowest loss first, ties by index (4 and 8 both 0.3)
        XCTAssertEqual(Quarantine.margin(isolated: isolated, labels: labels, losses: losses, ratio: 1), [4, 8, 7])
        // rounded up: 0.5 x 3 = 1.5 -> 2
        XCTAssertEqual(Quarantine.margin(isolated: isolated, labels: labels, losses: losses, ratio: 0.5), [4, 8])
        // never more than the label holds, never an isolated sample or another label
        XCTAssertEqual(Quarantine.margin(isolated: isolated, labels: labels, losses: losses, ratio: 10), [4, 8, 7, 5, 2])
        XCTAssertEqual(Quarantine.margin(isolated: isolated, labels: labels, losses: losses, ratio: 0), [])
        XCTAssertEqual(Quarantine.margin(isolated: [], labels: labels, losses: losses, ratio: 1), [])
    }

    func testLabelTiesGoToTheLowerLabel() {
        XCTAssertEqual(Quarantine.label(isolated: [0, 1], labels: [3, 1]), 1)
        XCTAssertNil(Quarantine.label(isolated: [], labels: [3, 1]))
    }
}
