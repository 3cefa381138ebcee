import ABLNet
import CanonicalJSON
import Foundation
import Sanitizer

extension ExportStage {
    /// The hand-off README's account of how the listed samples were chosen, from what the isolate
    /// stage recorded: the verdict, the label and the count actually used.
    static func howChosen(_ r: IsolationRecord, trainCount: Int, classNames: [String]) -> String {
        func name(_ c: Int) -> String { c < classNames.count ? "\(c) (\(classNames[c]))" : String(c) }
        func pct(_ v: Double) -> String { String(format: "%.2f %%", v * 100) }
        var s = ""
        if let d = r.detection {
            switch (d.backdoor, d.target) {
            case (true?, let t?):
                let e = d.strongest
                s += "The training set was judged against the test set: label \(name(t)) holds far more training samples unlike its test samples (by loss or by features) than chance allows"
                if let e { s += " (\(e.sentence))" }
                s += ", so a backdoor targeting it was found. "
            case (false?, _):
                s += "The training set was judged against the test set and no backdoor was found: no label's training samples differ from its test samples (by loss or by features) more than chance allows. "
            default:
                s += "The test set had too few samples per label to judge the training set against, so no verdict was made. "
            }
        }
        if r.count == 0 { return s + "No sample was isolated (isolate.when_clean: isolate-nothing); this folder lists none." }
        let share = pct(Double(r.count) / Double(max(1, trainCount)))
        guard let t = r.givenTarget ?? r.inferredTarget else {
            return s + "The \(r.count) samples with the lowest loss over the whole training set (\(share) of it, strategy \(r.strategy)) are listed here."
        }
        let how = r.givenTarget != nil ? "given by the manifest (isolate.target)"
            : r.targetFromDetection == true ? "named by that verdict" : "inferred from the labels' loss statistics (\(r.targetStatistic ?? "?"))"
        s += "Only samples labelled \(name(t)), the target \(how), were considered. "
        if let d = r.distanceThreshold {
            s += "The verdict found that label by the isolation model's features, so its samples were taken by their distance from the label's test samples in those features (the mean distance to the 5 nearest): the \(r.count) listed (\(share) of the training set) lie"
            s += String(format: " at least %.3g from them (the verdict's threshold)", d)
            if let a = r.adaptive { s += ", bounded to between \(pct(a.minRatio)) and \(pct(a.maxRatio)) of the training set" }
            s += "."
        } else if let a = r.adaptive {
            s += "The \(r.count) listed (\(share) of the training set) are those of that label"
            if let b = a.boundaryLoss { s += String(format: " with a loss below %.3g, the boundary between the two modes of a mixture fitted to the label's log-losses,", b) }
            s += " bounded to between \(pct(a.minRatio)) and \(pct(a.maxRatio)) of the training set."
        } else {
            s += "The \(r.count) with the lowest loss (the fraction \(JSON.formatNumber(r.ratio)) of the training set) are listed here."
        }
        return s
    }

    /// How the list is ordered.
    static func orderLine(_ r: IsolationRecord) -> String {
        r.distanceThreshold != nil ? "The samples are listed farthest from the label's test samples first: a low rank means most suspicious."
                                   : "The samples are listed lowest loss first: a low rank means most suspicious."
    }
}
