import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// ABL stage 1: trains from scratch with LGA for T_te epochs, computes every training sample's
/// loss (eval mode, no augmentation) and isolates the fraction p with the lowest loss.
struct IsolateStage: Stage {
    let name = "isolate"
    /// Where the training set comes from (the poison stage, or the dataset as given).
    var origin: DataOrigin = .poisoned
    var upstream: [String] { origin.stages }
    /// 2: target-aware isolation infers the target from the classes' loss spread; 3: wall times in
    /// the volatile timing.json; 4: `target_statistic` (mode gap by default), `class_mode_gap`;
    /// 5: the separation statistic (the new default), `class_separation`; `given_target` with
    /// `isolate.target` (a new optional key, so existing manifests keep their cache keys);
    /// 6: test_losses.npy, features.npy and test_features.npy (the isolation model's losses on
    /// the clean test set, and its penultimate features of both sets) and the detection verdict
    /// (`isolate.detection`).
    let formatVersion = 6
    let runsOnEveryRank = true
    /// Below this ratio of the target's statistic to the runner-up's, the log and report.md call
    /// the inferred target a close call.
    static let closeCall = 1.25

    /// The target's statistic over the runner-up's when that is a close call, else nil.
    static func closeCallMargin(_ target: Double, _ runnerUp: Double?) -> Double? {
        guard let r = runnerUp, r > 0, target / r < closeCall else { return nil }
        return target / r
    }

    func parameters(_ m: Manifest) -> JSON { TrainingSupport.keyed(["model": m.section("model"), "isolate": m.section("isolate"), "seed": m.resolved["seed"]!], m) }
    func externalInputs(_ m: Manifest) -> [String] { [] }
    func volatileOutputs(_ m: Manifest) -> [String] { ["timing.json"] }
    func declaredOutputs(_ m: Manifest) -> [String] { ["model.safetensors", "losses.npy", "test_losses.npy", "features.npy", "test_features.npy", "isolated.npy", "isolation.json", "metrics.json"] }

    func run(_ ctx: StageContext) throws {
        let m = ctx.manifest, s = m.config.isolate
        let data = try TrainingData.load(ctx, origin)
        let train = data.dataset.train
        let net = try TrainingSupport.network(m, data.dataset, stream: name)
        let loop = try trainWithLGA(ctx, net, data)
        let losses = try Evaluation.losses(net, train, group: ctx.group)
        if losses.contains(where: { !$0.isFinite }) { throw TrainingError.diverged(epoch: "\(name) epoch \(s.epochs)") }
        let testLosses = try Evaluation.losses(net, data.dataset.test, group: ctx.group)
        let features = try IsolateStage.features(net, data.dataset, group: ctx.group)
        if s.detection != .off, m.config.attack == nil, m.config.dataset.testFromTrainingData {
            ctx.log("warning: the test set was carved from the training files (dataset.test_ratio), so it holds any poison too and the detection verdict has no clean reference; set isolate.detection to off, or give a trusted test set (docs/SANITIZE.md)")
        }
        let verdict = IsolateStage.verdict(s, losses: losses, labels: train.labels, testLosses: testLosses, testLabels: data.dataset.test.labels,
                                           features: features, classNames: data.dataset.classNames, log: ctx.log)
        var sel = Isolation.select(losses: losses, labels: train.labels, ratio: s.ratio, strategy: s.strategy, maxRatio: s.maxRatio,
                                   targetStatistic: s.targetStatistic, knownTarget: s.target, verdict: verdict, whenClean: s.whenClean)
        if s.rankBy == .detectionSignal { IsolateStage.rankByDistance(&sel, s, verdict: verdict, features: features, data.dataset) }
        var record = IsolationRecord(sel, settings: s, trainCount: train.count, poisoned: train.poison?.poisoned)
        if s.detection != .off {
            record.detection = DetectionRecord(verdict, rule: s.detectionRule, action: IsolateStage.action(sel, verdict: verdict, whenClean: s.whenClean))
        }
        logSelection(ctx, sel, record)
        try SafeTensors.save(net, to: ctx.workFolder + "/model.safetensors", metadata: ["stage": name])
        try NPY.write(float32: losses, to: ctx.workFolder + "/losses.npy")
        try NPY.write(float32: testLosses, to: ctx.workFolder + "/test_losses.npy")
        try IsolateStage.saveFeatures(features, to: ctx.workFolder)
        try NPY.write(int64: sel.indices, to: ctx.workFolder + "/isolated.npy")
        try OutputFile.write(record, to: ctx.workFolder + "/isolation.json")
        try loop.writeTiming()
        try TrainingSupport.writeMetrics(ctx, TrainingMetrics(curve: loop.curve, final: Scores(try data.score(net, group: ctx.group))))
    }

    /// Trains `net` from scratch with local gradient ascent for `isolate.epochs` epochs.
    func trainWithLGA(_ ctx: StageContext, _ net: Network, _ data: TrainingData) throws -> TrainingLoop {
        let m = ctx.manifest, s = m.config.isolate, train = data.dataset.train
        let trainer = Trainer(net: net, settings: TrainingSupport.settings(m), seed: m.seed, stream: name, group: ctx.group)
        let objective = Objective.lga(gamma: Float(s.gamma), granularity: s.granularity)
        let aug = TrainingSupport.augmentation(s.augment), lr = Float(s.lr)
        var loop = TrainingLoop(ctx)
        try loop.run(phase: "isolate", label: "isolate", epochs: s.epochs, steps: TrainingSupport.steps(train.count, trainer), lr: { _ in lr },
                     train: { e, lr, progress in
                         try trainer.epoch(train, EpochPlan(objective: objective, lr: lr, augment: aug, order: s.shuffle ? .shuffled : .fixed,
                                                            name: "\(name) epoch \(e)")) { done, _ in progress(done); return true }
                     },
                     score: { TrainingLoop.Score(try data.score(net, group: ctx.group)) },
                     log: { e, loss, s in String(format: "isolate epoch %d: LGA loss %.4f, ", e, loss) + s.text })
        return loop
    }

    /// The log lines on what was isolated: the adaptive count, the target label and how clear its choice was, precision and recall.
    func logSelection(_ ctx: StageContext, _ sel: Isolation.Selection, _ record: IsolationRecord) {
        if record.adaptive != nil {
            ctx.log(String(format: "adaptive isolation: %d samples (%.2f%% of the training set)", record.count, record.ratio * 100))
        }
        if sel.targetFromVerdict, let t = sel.inferredTarget {
            ctx.log("target-aware isolation: label \(t), named by the detection verdict")
        } else if let t = sel.inferredTarget, let st = sel.targetStatistic {
            let mine = sel.scores(for: st)[t] ?? 0
            if sel.targetGiven {
                // the statistic's own choice is still worth a line: it tells whether inference would have found it
                let best = Isolation.top(sel.scores(for: st))
                ctx.log(String(format: "target-aware isolation: target label %d given by the manifest (%@ would have named label %d, %.2f; label %d scores %.2f)", t,
                               st.rawValue, best?.label ?? -1, best?.score ?? 0, t, mine))
            } else {
                let next = sel.runnerUp
                ctx.log(String(format: "target-aware isolation: inferred target label %d (%@ %.2f; next: label %d, %.2f)", t,
                               st.rawValue, mine, next?.label ?? -1, next?.score ?? 0))
                if let margin = IsolateStage.closeCallMargin(mine, next?.score) {
                    ctx.log(String(format: "warning: close call, the target's statistic is only %.2f times the runner-up's: check isolation.json and the contact sheet before trusting the isolated set", margin))
                }
            }
        }
        if let p = record.precision, let r = record.recall {
            ctx.log(String(format: "isolated %d samples: precision %.2f%%, recall %.2f%%", record.count, p * 100, r * 100))
        }
    }
}

extension TargetStatistic {
    /// The key of this statistic's per-class values in isolation.json (`class_mode_gap`, ...).
    var isolationKey: String { "class_" + rawValue.replacingOccurrences(of: "-", with: "_") }
}
