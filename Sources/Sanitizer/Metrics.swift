/// The metrics of ../shared/docs/ABL-METHOD.md §2, computed from predictions and ground truth.
public enum Metrics {
    /// CA: accuracy over the whole clean test set.
    public static func cleanAccuracy(predictions: [Int], labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// CA-nt: clean accuracy over the test images whose true label is not the target.
    public static func cleanAccuracyNonTarget(predictions: [Int], labels: [Int], target: Int) -> Double {
        let idx = labels.indices.filter { labels[$0] != target }
        guard !idx.isEmpty else { return 0 }
        return Double(idx.filter { predictions[$0] == labels[$0] }.count) / Double(idx.count)
    }

    /// ASR and RA over triggered test images. Only images whose true label is not the target
    /// count: ASR = share predicted as the target, RA = share predicted as their true label.
    public static func attackSuccess(predictions: [Int], trueLabels: [Int], target: Int) -> (asr: Double, ra: Double) {
        let idx = trueLabels.indices.filter { trueLabels[$0] != target }
        guard !idx.isEmpty else { return (0, 0) }
        let hit = idx.filter { predictions[$0] == target }.count
        let robust = idx.filter { predictions[$0] == trueLabels[$0] }.count
        return (Double(hit) / Double(idx.count), Double(robust) / Double(idx.count))
    }

    /// DER (BackdoorBench): (max(0, ASR_nodef - ASR_def) - max(0, CA_nodef - CA_def) + 1) / 2.
    public static func defenseEffectivenessRate(asrNoDefense: Double, asrDefense: Double,
                                                caNoDefense: Double, caDefense: Double) -> Double {
        (max(0, asrNoDefense - asrDefense) - max(0, caNoDefense - caDefense) + 1) / 2
    }

    /// Isolation precision (poisoned among isolated) and recall (isolated among all poisoned).
    public static func isolationPrecisionRecall(isolated: [Int], poisoned: [Bool]) -> (precision: Double, recall: Double) {
        let hits = isolated.filter { poisoned[$0] }.count
        let total = poisoned.filter { $0 }.count
        return (isolated.isEmpty ? 0 : Double(hits) / Double(isolated.count),
                total == 0 ? 0 : Double(hits) / Double(total))
    }
}
