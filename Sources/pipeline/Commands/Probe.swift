import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// `abl probe M`: the attack against a transfer-learning victim (a linear head on the frozen
/// surrogate's features), beside the same head trained on the clean training set as control.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score the attack against a transfer-learning victim: a linear head on the frozen surrogate's features.",
        discussion: """
        Runs the manifest's ingest, surrogate and poison stages if they are not fresh, then trains \
        two linear heads on the surrogate's penultimate features: one on the poisoned training set, \
        one on the clean training set (the control). It prints CA and ASR of both. This is the \
        victim the hidden-trigger attacks (fc) were designed for; the pipeline's victims train \
        every layer from scratch. Only for attacks that train a surrogate.
        """)

    @Argument(help: "The manifest (JSON).")
    var manifest: String

    @Option(help: "Epochs of the heads' training.")
    var epochs = 10

    @Option(help: "Learning rate (x0.1 after 60 % of the epochs).")
    var lr: Double = 0.1

    @Option(help: "Also write the figures to this JSON file.")
    var output: String?

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    }

    func run() throws {
        do {
            let m = try Manifest.load(manifest)
            guard let attack = m.config.attack, attack.descriptor.needsSurrogate else {
                throw StageError.failed(stage: "probe", reason: "\(manifest): attack \"\(m.config.attack?.kind ?? "none")\" trains no surrogate, so there are no attacker's features to probe")
            }
            let runner = Runner(manifest: m)
            _ = try runner.run(target: "poison")
            let clean = try DatasetStore.read(from: runner.folder("ingest"))
            let poisoned = try DatasetStore.read(from: runner.folder("poison"))
            let triggered = try DatasetStore.readSplit(name: "triggered_test", from: runner.folder("poison"))
            let target = attack.target
            let net = SurrogateStage.network(m, channels: clean.train.channels, classes: clean.classNames.count)
            try SafeTensors.load(into: net, from: runner.folder("surrogate") + "/model.safetensors")

            Console.error("probe: surrogate features of \(poisoned.train.count + clean.train.count + clean.test.count + triggered.count) images")
            let (fp, width) = try LinearProbe.features(net, poisoned.train)
            let fc = try LinearProbe.features(net, clean.train).values
            let ft = try LinearProbe.features(net, clean.test).values
            let fg = try LinearProbe.features(net, triggered).values

            var settings = LinearProbe.Settings()
            settings.epochs = epochs
            settings.lr = Float(lr)
            settings.lrDrop = max(1, (epochs * 6 + 9) / 10)
            var rows: [(String, ModelScores)] = []
            for (name, f, labels) in [("poisoned", fp, poisoned.train.labels), ("clean", fc, clean.train.labels)] {
                var rng = SeededRNG(seed: m.seed, stream: "probe")
                let head = try LinearProbe.train(features: f, width: width, labels: labels, classes: clean.classNames.count,
                                                 settings: settings, seed: rng.next())
                let s = Evaluation.score(testPredictions: try LinearProbe.predict(head, features: ft, width: width), test: clean.test,
                                         triggeredPredictions: try LinearProbe.predict(head, features: fg, width: width),
                                         triggered: triggered, target: target)
                rows.append((name, s))
            }
            print("| head trained on | CA | CA-nt | ASR | RA |\n|---|---|---|---|---|")
            for (name, s) in rows {
                print(String(format: "| %@ training set | %.2f | %.2f | %.2f | %.2f |", name, s.ca * 100, s.caNT * 100, (s.asr ?? 0) * 100, (s.ra ?? 0) * 100))
            }
            let originals = triggered.poison?.originalIndices ?? []
            let (shift, spread) = LinearProbe.triggerShift(clean: ft, labels: clean.test.labels, triggered: fg, originals: originals,
                                                           width: width, classes: clean.classNames.count)
            print(String(format: "The trigger moves a test image's surrogate features by %.3f on average; a clean test image lies %.3f from its class centroid (ratio %.2f).",
                         shift, spread, spread > 0 ? shift / spread : 0))
            print("Linear head on the frozen surrogate (\(width) features), \(epochs) epochs, lr \(lr); figures in %.")
            if let o = output {
                var j: [String: JSON] = ["manifest": .string(manifest), "epochs": .number(Double(epochs)), "lr": .number(lr),
                                         "feature_width": .number(Double(width))]
                for (name, s) in rows { j[name] = try OutputFile.tree(Scores(s)) }
                j["trigger_shift"] = .number(TrainingSupport.round4(shift))
                j["class_spread"] = .number(TrainingSupport.round4(spread))
                try AtomicFile.write(Data(JSON.object(j).pretty.utf8), to: o)
            }
        } catch let e as ManifestError {
            throw fail(e, code: 2)
        } catch {
            throw fail(error)
        }
    }
}
