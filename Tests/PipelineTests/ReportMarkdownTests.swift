import ABLNet
import Sanitizer
import XCTest
@testable import pipeline

/// The Markdown summary flags an inferred target whose statistic barely beats the runner-up's.
final class ReportMarkdownTests: XCTestCase {
    /// A report with the given isolation record and, optionally, label counts.
    func report(_ isolation: IsolationRecord, labels: [Int]? = nil) -> RunReport {
        let scores = Scores(ModelScores(ca: 0.9, caNT: 0.9, asr: 0.1, ra: 0.8))
        let attack = AttackRecord<SurrogateSummary>(kind: "badnets", name: "BadNets", labelKind: "dirty", mode: "all-to-one", target: 0, targetName: "a",
                                                    rate: 0.1, rateCounts: "whole training set", poisoned: 3, poisonedShareOfTrainingSet: 0.1,
                                                    trainCount: 30, triggeredTestCount: 10, parameters: .object([:]), details: nil, surrogate: nil)
        return RunReport(run: "t", title: "t",
                         versions: .init(abl: "0.1.0", commit: "0123456789ab", localChanges: true, swift: "6.3", openblas: "", openblasCore: "",
                                         cpu: "Xeon", cpuFeatures: ["avx2", "avx512f"], engineWorkers: 1),
                         digests: .init(trainImages: "", trainLabels: "", testImages: "", triggeredTestImages: "", cleanTrainImages: "", models: [:]),
                         attack: attack, models: .init(noDefense: scores, abl: scores, isolationModel: scores, clean: nil), isolation: isolation,
                         labelBalance: labels.map { LabelBalanceSummary(LabelBalance(labels: $0, classes: 3), classNames: ["a", "b", "c"]) },
                         curves: [:], stages: [:], unlearning: .init(mode: "joint", isolatedAccuracy: nil, ascentStopped: nil), parameters: .object([:]))
    }

    func isolation(separation: [String: Double], given: Bool = false) -> IsolationRecord {
        var i = IsolationRecord(ratio: 0.01, count: 10, strategy: "target-aware", granularity: "batch")
        if given { i.givenTarget = 0 } else { i.inferredTarget = 0 }
        i.targetStatistic = "separation"
        i.classSeparation = separation
        return i
    }

    func testACloseCallIsFlaggedAndAClearOneIsNot() {
        // full-scale Blend (15.54 against 13.61) and full-scale BadNets (29.05 against 5.32)
        let close = ReportMarkdown.render(report(isolation(separation: ["0": 15.54, "8": 13.61, "1": 2])))
        XCTAssertTrue(close.contains("by separation (15.54; next label 8, 13.61)"), close)
        XCTAssertTrue(close.contains("**Close call:** the inferred target's statistic is only 1.14 times the runner-up's"), close)
        let clear = ReportMarkdown.render(report(isolation(separation: ["0": 29.05, "7": 5.32])))
        XCTAssertTrue(clear.contains("by separation (29.05; next label 7, 5.32)"), clear)
        XCTAssertFalse(clear.contains("Close call"), clear)
    }

    func testLabelCountsAreReportedAndAnExcessLabelOtherThanTheTargetIsFlagged() {
        // label 2 holds 30 samples against a median of 10 while the loss statistic named label 0 (full-scale LBA's case)
        let lba = ReportMarkdown.render(report(isolation(separation: ["0": 9, "2": 3]),
                                               labels: [Int](repeating: 0, count: 10) + [Int](repeating: 1, count: 8) + [Int](repeating: 2, count: 30)))
        XCTAssertTrue(lba.contains("Label counts: the largest label, 2 (c), holds 30 training samples, 3.00 times the median label's 10; dirty-label poisoning inflates its target this way. It is not the inferred target (0): if the source was balanced, review label 2 as the possible target."), lba)
        // balanced labels: one plain line, no flag
        let even = ReportMarkdown.render(report(isolation(separation: ["0": 9, "2": 3]), labels: (0..<30).map { $0 % 3 }))
        XCTAssertTrue(even.contains("Label counts: the largest label, 0 (a), holds 10 training samples, 1.00 times the median label's 10.\n"), even)
        XCTAssertFalse(even.contains("inflates"), even)
    }

    func testAGivenTargetIsNamedAsGivenWithoutACloseCall() {
        let md = ReportMarkdown.render(report(isolation(separation: ["0": 1, "8": 9], given: true)))
        XCTAssertTrue(md.contains("target-aware, LGA batch, target 0 given by the manifest)"), md)
        XCTAssertFalse(md.contains("inferred target"), md)
        XCTAssertFalse(md.contains("Close call"), md)
    }

    func testEveryRendererPrintsAMissingFigureTheSameWay() {
        XCTAssertEqual(ReportMarkdown.pct(nil), "–")
        XCTAssertEqual(Compare.pct(nil), "–")
        XCTAssertEqual(ReportMarkdown.pct(0.12345), "12.35 %")
        XCTAssertEqual(Compare.pct(0.12345), "12.35")
    }

    func testTheFooterNamesVersionCommitAndCPU() {
        let md = ReportMarkdown.render(report(isolation(separation: ["0": 9, "1": 1])))
        XCTAssertTrue(md.contains("abl 0.1.0 (commit 0123456789ab + local changes) on Xeon (avx2 avx512f)."), md)
    }
}

extension ReportMarkdownTests {
    func testAProbabilityBelowTheDoubleRangeIsNotPrintedAsZero() {
        XCTAssertEqual(DetectionRecord.pText(0), "p < 1e-300")
        XCTAssertEqual(DetectionRecord.pText(3.14e-12), "p = 3.1e-12")
    }
}

extension ReportMarkdownTests {
    func testTinyProbabilitiesKeepTheirMagnitudeInTheRecord() {
        XCTAssertEqual(DetectionRecord.significant(1.234567e-60), 1.23e-60)
        XCTAssertEqual(DetectionRecord.significant(0.0123456), 0.0123)
    }
}
