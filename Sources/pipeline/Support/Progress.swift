import Foundation

/// A progress indicator on standard error for a long loop.
///
/// On a terminal it redraws one bar in place (at most 10 times a second). Otherwise (a log
/// file, CI) it prints a plain line per reported step, thinned to one every 25 % of the loop or
/// every 30 seconds, whichever comes first, so logs of hour-long runs stay readable.
final class Progress {
    private let label: String
    private let total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastPlainFraction = -1.0
    private let terminal: Bool
    private let quiet: Bool

    init(_ label: String, total: Int, quiet: Bool = false) {
        self.label = label
        self.total = max(total, 1)
        self.terminal = Console.stderrIsTerminal
        self.quiet = quiet
    }

    /// Reports that `done` of `total` steps are complete; `info` is appended (for example a loss).
    func update(_ done: Int, info: String = "") {
        guard !quiet else { return }
        let now = Date()
        let fraction = Double(done) / Double(total)
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let suffix = info.isEmpty ? "" : "  " + info
        if terminal {
            guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            let width = 28
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            Console.raw("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total) \(Progress.time(elapsed)) eta \(Progress.time(eta))\(suffix)")
            if done == total { Console.raw("\n") }
        } else {
            guard done == total || fraction - lastPlainFraction >= 0.25 || now.timeIntervalSince(lastDraw) >= 30 else { return }
            lastDraw = now
            lastPlainFraction = fraction
            Console.error("\(label): \(done)/\(total) (\(Int(fraction * 100))%) \(Progress.time(elapsed)) eta \(Progress.time(eta))\(suffix)")
        }
    }

    static func time(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1fs", s) }
        return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }
}
