import ABLNet
import XCTest
@testable import pipeline

/// The Markdown summary flags an inferred target whose statistic barely beats the runner-up's.
final class ReportMarkdownTests: XCTestCase {
    func report(separation: [String: Double]) -> JSON {
        .object(["title": .string("t"),
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
}
