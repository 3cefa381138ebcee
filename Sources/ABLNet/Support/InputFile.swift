import Foundation
import Glibc

/// Errors of opening an input file. Each names the file and the cause.
public enum InputFileError: Error, CustomStringConvertible {
    case missing(path: String)
    case notRegular(path: String, kind: String, target: String?)
    case tooLarge(path: String, bytes: Int, limit: Int, variable: String)
    case unreadable(path: String, reason: String)

    public var path: String {
        switch self {
        case .missing(let p), .notRegular(let p, _, _), .tooLarge(let p, _, _, _), .unreadable(let p, _): return p
        }
    }

    /// The cause, without the file name.
    public var reason: String {
        switch self {
        case .missing: return "no such file"
        case .notRegular(_, let kind, let target):
            let via = target.map { " (a symbolic link to \($0))" } ?? ""
            return "not a regular file but a \(kind)\(via); only regular files are read"
        case .tooLarge(_, let bytes, let limit, let variable):
            return "\(bytes) bytes exceed the input limit of \(limit) bytes (raise it with the environment variable \(variable))"
        case .unreadable(_, let r): return r
        }
    }

    public var description: String { "\(path): \(reason)" }
}

/// Limits on what the readers accept from a file, checked before any allocation. Each can be
/// changed through an environment variable (a plain integer).
public enum InputLimits {
    /// `ABL_MAX_INPUT_BYTES`: the most bytes read from one file, or inflated from one gzip file.
    public static let inputBytesVariable = "ABL_MAX_INPUT_BYTES"
    /// `ABL_MAX_IMAGE_PIXELS`: the most pixels (width x height) of one decoded PNG or JPEG image.
    public static let imagePixelsVariable = "ABL_MAX_IMAGE_PIXELS"

    public static let defaultInputBytes = 8 << 30
    /// Pillow's decompression-bomb threshold: a 13377x13377 image.
    public static let defaultImagePixels = 178_956_970

    public static var maxInputBytes: Int { value(inputBytesVariable) ?? defaultInputBytes }
    public static var maxImagePixels: Int { value(imagePixelsVariable) ?? defaultImagePixels }

    private static func value(_ name: String) -> Int? {
        guard let raw = getenv(name), let v = Int(String(cString: raw)), v > 0 else { return nil }
        return v
    }
}

/// Reads whole input files, refusing anything that is not a regular file (devices, FIFOs,
/// sockets, folders; symbolic links are followed and their target checked) and anything over
/// the size limit. A FIFO is opened without blocking, so reading one never hangs.
public enum InputFile {
    /// The kind of an `st_mode`, in words.
    public static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "folder"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFIFO: return "FIFO (named pipe)"
        case S_IFSOCK: return "socket"
        case S_IFLNK: return "symbolic link"
        default: return "special file"
        }
    }

    /// Opens `path` for reading when it is a regular file; returns the descriptor and size.
    /// The caller closes the descriptor.
    public static func openRegular(_ path: String, limit: Int = InputLimits.maxInputBytes) throws -> (fd: Int32, size: Int) {
        // Checked before opening (a socket cannot be opened) and again on the descriptor.
        var before = stat()
        guard stat(path, &before) == 0 else {
            let code = errno
            var l = stat()
            if code == ENOENT, lstat(path, &l) == 0 { throw InputFileError.notRegular(path: path, kind: "dangling symbolic link", target: linkTarget(path)) }
            if code == ENOENT { throw InputFileError.missing(path: path) }
            throw InputFileError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        guard before.st_mode & S_IFMT == S_IFREG else {
            throw InputFileError.notRegular(path: path, kind: kind(before.st_mode), target: linkTarget(path))
        }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw InputFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw InputFileError.unreadable(path: path, reason: reason)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw InputFileError.notRegular(path: path, kind: kind(st.st_mode), target: linkTarget(path))
        }
        let size = Int(st.st_size)
        guard size <= limit else {
            close(fd)
            throw InputFileError.tooLarge(path: path, bytes: size, limit: limit, variable: InputLimits.inputBytesVariable)
        }
        return (fd, size)
    }

    /// The whole content of a regular file of at most `limit` bytes.
    public static func read(_ path: String, limit: Int = InputLimits.maxInputBytes) throws -> [UInt8] {
        let (fd, size) = try openRegular(path, limit: limit)
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw InputFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            guard n > 0 else { throw InputFileError.unreadable(path: path, reason: "the file shrank while being read") }
            done += n
        }
        return out
    }

    /// Whether `path` (symbolic links followed) is a regular file.
    public static func isRegular(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
    }

    private static func linkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }
}
