import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge a run's training set for a backdoor from its saved isolation losses, training nothing.",
        discussion: """
        Reads <run>/isolate/losses.npy and test_losses.npy (the isolation model's losses on the training \
        and the test set) and the labels, and applies the detection rule of docs/DETECTION.md, with \
        another false-positive rate or excess if given. The run's own outputs are not changed: to \
        isolate with a new rule, set it in the manifest's isolate section and `abl run` again.
        """)

    @Argument(help: "The run folder (the manifest's output).")
    var runFolder: String

    @Option(help: "The chance the verdict calls a clean training set backdoored (over all labels).")
    var falsePositiveRate = Detection.Rule.default.falsePositiveRate

    @Option(help: "The least excess share of a label's training samples below a loss, over its test samples.")
    var minExcess = Detection.Rule.default.minExcess

    @Flag(help: "Print the verdict as JSON (the layout of report.json's `detection`).")
    var json = false

    func validate() throws {
        guard falsePositiveRate > 0, falsePositiveRate < 0.5 else { throw ValidationError("--false-positive-rate must be in (0, 0.5)") }
        guard minExcess >= 0, minExcess < 1 else { throw ValidationError("--min-excess must be in [0, 1)") }
    }

    func run() throws {
        do {
            let iso = runFolder + "/isolate"
            let lossFile = try NPY.read(iso + "/losses.npy"), testLossFile = try NPY.read(iso + "/test_losses.npy")
            guard lossFile.dtype == .float32, testLossFile.dtype == .float32 else {
                throw StageError.runFolder("\(iso): losses.npy and test_losses.npy must hold float32 values")
            }
            let data = try Detect.isolationInputs(runFolder)
            let losses = lossFile.float32, testLosses = testLossFile.float32
            let ds = try DatasetStore.read(from: data)
            guard losses.count == ds.train.count, testLosses.count == ds.test.count else {
                throw StageError.runFolder("\(iso): the saved losses (\(losses.count) training, \(testLosses.count) test) do not match \(data) (\(ds.train.count), \(ds.test.count))")
            }
            var features = try IsolateStage.savedFeatures(iso, trainCount: ds.train.count, testCount: ds.test.count)
            if features == nil {
                // a run folder from before features were saved: recompute them with the isolation model
                let arch = StageRecord.read(folder: iso)?.parameters["model"]?["architecture"]?.stringValue.flatMap(Architecture.init) ?? .wrn16_1
                let net = arch.build(inputChannels: ds.train.channels, numClasses: ds.classNames.count, seed: 0,
                                     engine: EngineSettings(workers: ProcessInfo.processInfo.activeProcessorCount))
                try SafeTensors.load(into: net, from: iso + "/model.safetensors")
                features = try IsolateStage.features(net, ds)
            }
            let rule = Detection.Rule(falsePositiveRate: falsePositiveRate, minExcess: minExcess)
            let v = Detection.judge(trainLosses: losses, trainLabels: ds.train.labels, testLosses: testLosses, testLabels: ds.test.labels,
                                    features: features, rule: rule)
            if json {
                print(try OutputFile.tree(DetectionRecord(v, rule: rule, action: "judged by abl detect; the run's isolation is unchanged")).pretty)
            } else {
                DetectionText(classNames: ds.classNames).print(v)
            }
        } catch {
            throw fail(error)
        }
    }
}

extension Detect {
    /// The dataset folder the isolate stage read (poison/ or ingest/, as its record names it),
    /// once the files this command reads are shown to be the ones the records describe: the
    /// isolate stage's saved losses and features, and the outputs of the stage it read. A
    /// folder half rerun (an isolate stage left from another dataset) is refused, not judged.
    static func isolationInputs(_ runFolder: String) throws -> String {
        let iso = runFolder + "/isolate"
        guard let record = StageRecord.read(folder: iso) else {
            throw StageError.runFolder("\(iso): no stage record (stage.json); run the manifest with `abl run`")
        }
        guard let (key, digest) = record.inputs.first(where: { $0.key == "upstream:poison" }) ?? record.inputs.first(where: { $0.key == "upstream:ingest" }) else {
            throw StageError.runFolder("\(iso)/\(StageRecord.fileName): names no poison or ingest stage as its input")
        }
        let upstream = String(key.dropFirst("upstream:".count)), folder = runFolder + "/" + upstream
        let rerun = "run the manifest with `abl run` to bring it up to date"
        guard let up = StageRecord.read(folder: folder), try up.outputDigest == digest else {
            throw StageError.runFolder("\(iso) was computed from another \(upstream) stage than the one in \(folder); \(rerun)")
        }
        let files = [(iso, record, ["losses.npy", "test_losses.npy", "features.npy", "test_features.npy"])] +
                    [(folder, up, up.outputs.keys.filter { !up.volatile.contains($0) }.sorted())]
        for (dir, r, names) in files {
            for name in names {
                guard let want = r.outputs[name] else { continue }
                guard (try? SHA256.hex(ofFile: dir + "/" + name)) == want else {
                    throw StageError.runFolder("\(dir)/\(name) is missing or not the file its stage wrote (its digest differs from stage.json); \(rerun)")
                }
            }
        }
        return folder
    }
}

/// The verdict in the plain words the isolate stage logs, for a terminal.
struct DetectionText {
    let classNames: [String]

    func print(_ v: Detection.Verdict?) {
        guard let v else { Swift.print("no verdict: fewer than 3 labels have 20 training and 10 test samples"); return }
        func name(_ c: Int) -> String { c < classNames.count ? "\(c) (\(classNames[c]))" : String(c) }
        Swift.print(v.backdoor ? "backdoor found, target label \(name(v.target ?? -1))" : "no backdoor found")
        Swift.print(String(format: "family p-value %.3g over %d label and signal pairs (a backdoor needs <= %.3g and an excess of %.0f points)",
                           v.familyPValue, v.evidence.count, v.rule.falsePositiveRate, v.rule.minExcess * 100))
        Swift.print("label  signal            train  test  excess  at         train share  test share  p-value    share z")
        for e in v.evidence.sorted(by: { $0.pValue != $1.pValue ? $0.pValue < $1.pValue : $0.label < $1.label }) {
            let signal = e.signal.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            Swift.print(String(format: "%5d  ", e.label) + signal + String(format: "  %5d  %4d  %6.3f  %9.3g  %10.1f%%  %9.1f%%  %9.3g  %7.2f", e.trainCount, e.testCount,
                               e.excess, e.at, e.trainShare * 100, e.testShare * 100, e.pValue, e.shareZ))
        }
    }
}
