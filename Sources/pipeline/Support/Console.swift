import Foundation

/// Writing to standard error without touching the C `stderr` global (not concurrency-safe in Swift 6).
enum Console {
    static func error(_ s: String) {
        let line = s.hasSuffix("\n") || s.hasSuffix("\r") ? s : s + "\n"
        raw(line)
    }

    static func raw(_ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(2, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }

    /// Whether standard error is a terminal (progress bars redraw in place there).
    static var stderrIsTerminal: Bool { isatty(2) != 0 }
}
