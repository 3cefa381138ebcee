import XCTest
@testable import PoisonForge

final class BadNetsTests: XCTestCase {
    func split(_ n: Int, h: Int = 6, w: Int = 5, c: Int = 1, classes: Int = 4) -> DatasetSplit {
        DatasetSplit(height: h, width: w, channels: c, pixels: (0..<(n * h * w * c)).map { UInt8(($0 * 7) % 200 + 20) },
                     labels: (0..<n).map { $0 % classes }, ids: (0..<n).map { "s\($0)" }, sources: ["f"],
                     sourceOf: Array(repeating: 0, count: n), sourceIndex: Array(0..<n))
    }

    func testReferenceGridPixelsInTheBottomRightCorner() {
        var img = [UInt8](repeating: 7, count: 6 * 5 * 3)
        img.withUnsafeMutableBufferPointer { Fixtures.badNets().applyTrigger($0.baseAddress!, height: 6, width: 5, channels: 3, index: 0) }
        func px(_ y: Int, _ x: Int) -> [UInt8] { Array(img[((y * 5 + x) * 3)..<((y * 5 + x) * 3 + 3)]) }
        // ABL-METHOD.md: img[H-1][W-1]=255, [H-1][W-2]=0, [H-1][W-3]=255, [H-2][W-1]=0, [H-2][W-2]=255,
        // [H-2][W-3]=0, [H-3][W-1]=255, [H-3][W-2]=0, [H-3][W-3]=0, on all channels.
        let expected: [(Int, Int, UInt8)] = [(5, 4, 255), (5, 3, 0), (5, 2, 255), (4, 4, 0), (4, 3, 255), (4, 2, 0), (3, 4, 255), (3, 3, 0), (3, 2, 0)]
        for (y, x, v) in expected { XCTAssertEqual(px(y, x), [v, v, v], "pixel (\(y), \(x))") }
        // nothing outside the patch changes
        for y in 0..<6 { for x in 0..<5 where y < 3 || x < 2 { XCTAssertEqual(px(y, x), [7, 7, 7]) } }
    }

    func testPoisonCountLabelsMetadataAndOnlyThePatchChanges() throws {
        let s = split(200)
        let out = try Fixtures.badNets(target: 0, rate: 0.1).poison(train: s, test: split(40), classCount: 4, seed: 3)
        let info = out.train.poison!
        let chosen = info.poisoned.indices.filter { info.poisoned[$0] }
        XCTAssertEqual(chosen.count, 20)
        for i in chosen {
            XCTAssertNotEqual(s.labels[i], 0)                    // drawn from non-target samples
            XCTAssertEqual(out.train.labels[i], 0)               // relabelled to the target
            XCTAssertEqual(info.originalLabels[i], s.labels[i])
            for y in 0..<6 { for x in 0..<5 where y < 3 || x < 2 {
                XCTAssertEqual(out.train.image(i)[out.train.image(i).startIndex + y * 5 + x], s.image(i)[s.image(i).startIndex + y * 5 + x])
            } }
        }
        for i in s.labels.indices where !info.poisoned[i] {
            XCTAssertEqual(Array(out.train.image(i)), Array(s.image(i)))
            XCTAssertEqual(out.train.labels[i], s.labels[i])
        }
        XCTAssertEqual(info.originalIndices, Array(0..<200))
    }

    func testTriggeredTestSetHoldsOnlyNonTargetImages() throws {
        let test = split(40)
        let out = try Fixtures.badNets(target: 2, rate: 0.1).poison(train: split(100), test: test, classCount: 4, seed: 1)
        let t = out.triggeredTest
        XCTAssertEqual(t.count, 30)                              // 10 of 40 have the target label
        XCTAssertTrue(t.labels.allSatisfy { $0 == 2 })
        XCTAssertFalse(t.poison!.originalLabels.contains(2))
        XCTAssertEqual(t.poison!.originalIndices.first, 0)
    }

    func testDeterministicForASeedAndDifferentAcrossSeeds() throws {
        let s = split(300)
        let a = try Fixtures.badNets().poison(train: s, test: split(8), classCount: 4, seed: 5)
        let b = try Fixtures.badNets().poison(train: s, test: split(8), classCount: 4, seed: 5)
        let c = try Fixtures.badNets().poison(train: s, test: split(8), classCount: 4, seed: 6)
        XCTAssertEqual(a.train, b.train)
        XCTAssertNotEqual(a.train.poison!.poisoned, c.train.poison!.poisoned)
    }

    func testAllToAllTargetsTheNextClass() throws {
        let out = try Fixtures.badNets(rate: 0.5, targetMode: .allToAll).poison(train: split(40), test: split(8), classCount: 4, seed: 1)
        for i in 0..<40 where out.train.poison!.poisoned[i] {
            XCTAssertEqual(out.train.labels[i], (out.train.poison!.originalLabels[i] + 1) % 4)
        }
        XCTAssertEqual(out.triggeredTest.count, 8)
    }

    func testARateThatPoisonsNothingOrTooMuchIsAnError() {
        XCTAssertThrowsError(try Fixtures.badNets(rate: 0.001).poison(train: split(100), test: split(4), classCount: 4, seed: 1))
        XCTAssertThrowsError(try Fixtures.badNets(rate: 0.9).poison(train: split(100), test: split(4), classCount: 4, seed: 1)) { e in
            XCTAssertTrue("\(e)".contains("eligible"), "\(e)")
        }
    }
}
