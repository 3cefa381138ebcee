import Foundation

/// The readers under test take paths: each input is written to one scratch file per process,
/// reused for every run.
public enum ScratchFile {
    public static let path: String = {
        let dir = ProcessInfo.processInfo.environment["ABL_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
        return dir + "/abl-fuzz-\(getpid())"
    }()

    /// Writes the input and returns the file's path.
    public static func write(_ data: UnsafeRawPointer, _ count: Int) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write the scratch file \(path)")
        var done = 0
        while done < count {
            let n = Foundation.write(fd, data + done, count - done)
            precondition(n > 0, "cannot write the scratch file \(path)")
            done += n
        }
        close(fd)
        return path
    }
}
