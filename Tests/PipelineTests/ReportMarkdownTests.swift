import ABLNet
import Sanitizer
import XCTest
@testable import pipeline

/// The Markdown summary flags an inferred target whose statistic barely beats the runner-up's.
final class ReportMarkdownTests: XCTestCase {
    func report(separation: [String: Double], labels: [Int]? = nil) -> JSON {
        .object(["title": .string("t"),
                 "label_balance": labels.map { ReportStage.labelBalance(LabelBalance(labels: $0, classes: 3), classNames: ["a", "b", "c"]) } ?? .null,
                 "isolation": .object(["count": .number(10), "ratio": .number(0.01), "strategy": .string("target-aware"), "granularity": .string("batch"),
                                       "inferred_target": .number(0), "target_statistic": .string("separation"),
                                       "class_separation": .object(separation.mapValues { .number($0) })])])
    }

    func testACloseCallIsFlaggedAndAClearOneIsNot() {
        // full-scale Blend (15.54 against 13.61) and full-scale BadNets (29.05 against 5.32)
        let close = ReportStage.markdown(report(separation: ["0": 15.54, "8": 13.61, "1": 2]))
        XCTAssertTrue(close.contains("by separation (15.54; next label 8, 13.61)"), close)
        XCTAssertTrue(close.contains("**Close call:** the inferred target's statistic is only 1.14 times the runner-up's"), close)
        let clear = ReportStage.markdown(report(separation: ["0": 29.05, "7": 5.32]))
        XCTAssertTrue(clear.contains("by separation (29.05; next label 7, 5.32)"), clear)
        XCTAssertFalse(clear.contains("Close call"), clear)
    }

    func testLabelCountsAreReportedAndAnExcessLabelOtherThanTheTargetIsFlagged() {
        // label 2 holds 30 samples against a median of 10 while the loss statistic named label 0 (full-scale LBA's case)
        let lba = ReportStage.markdown(report(separation: ["0": 9, "2": 3], labels: [Int](repeating: 0, count: 10) + [Int](repeating: 1, count: 8) + [Int](repeating: 2, count: 30)))
        XCTAssertTrue(lba.contains("Label counts: the largest label, 2 (c), holds 30 training samples, 3.00 times the median label's 10; dirty-label poisoning inflates its target this way. It is not the inferred target (0): if the source was balanced, review label 2 as the possible target."), lba)
        // balanced labels: one plain line, no flag
        let even = ReportStage.markdown(report(separation: ["0": 9, "2": 3], labels: (0..<30).map { $0 % 3 }))
        XCTAssertTrue(even.contains("Label counts: the largest label, 0 (a), holds 10 training samples, 1.00 times the median label's 10.\n"), even)
        XCTAssertFalse(even.contains("inflates"), even)
    }

    func testAGivenTargetIsNamedAsGivenWithoutACloseCall() {
        let r = JSON.object(["title": .string("t"),
                             "isolation": .object(["count": .number(10), "ratio": .number(0.01), "strategy": .string("target-aware"), "granularity": .string("batch"),
                                                   "given_target": .number(0), "target_statistic": .string("separation"),
                                                   "class_separation": .object(["0": .number(1), "8": .number(9)])])])
        let md = ReportStage.markdown(r)
        XCTAssertTrue(md.contains("target-aware, LGA batch, target 0 given by the manifest)"), md)
        XCTAssertFalse(md.contains("inferred target"), md)
        XCTAssertFalse(md.contains("Close call"), md)
    }
}
