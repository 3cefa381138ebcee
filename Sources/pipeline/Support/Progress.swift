import Foundation

/// A progress indicator on standard error for a long loop.
///
/// On a terminal it redraws one bar in place (at most 10 times a second). Otherwise (a log
/// file, CI) it prints one plain line when the loop completes, and one every 30 seconds while a
/// loop runs longer than that, so a full-schedule log holds about a line per epoch.
final class Progress {
    private let label: String
    private let total: Int
    private let start: Date
    private var lastDraw: Date
    private let terminal: Bool
    private let quiet: Bool

    /// Seconds between two plain lines of a long loop when standard error is not a terminal.
    static let plainInterval = 30.0

    init(_ label: String, total: Int, quiet: Bool = false, terminal: Bool = Console.stderrIsTerminal) {
        self.label = label
        self.total = max(total, 1)
        self.terminal = terminal
        self.quiet = quiet
        let now = Date()
        self.start = now
        self.lastDraw = now
    }

    /// Whether a plain (non-terminal) line is due for `done` steps at time `now`.
    func plainLineDue(_ done: Int, now: Date) -> Bool {
        done >= total || now.timeIntervalSince(lastDraw) >= Progress.plainInterval
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
            guard plainLineDue(done, now: now) else { return }
            lastDraw = now
            Console.error("\(label): \(done)/\(total) (\(Int(fraction * 100))%) \(Progress.time(elapsed)) eta \(Progress.time(eta))\(suffix)")
        }
    }

    static func time(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1fs", s) }
        return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
    }
}
