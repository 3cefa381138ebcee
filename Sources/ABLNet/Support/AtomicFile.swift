import Foundation

/// Errors of writing files.
public enum FileWriteError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case noSpace(path: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): return "\(path): cannot write: \(reason)"
        case .noSpace(let path): return "\(path): cannot write: no space left on device"
        }
    }

    /// Whether `error` is a full disk (ENOSPC, or Foundation's "out of space" wrapping it).
    public static func isNoSpace(_ error: Error) -> Bool {
        if case FileWriteError.noSpace = error { return true }
        let e = error as NSError
        if e.domain == NSPOSIXErrorDomain && e.code == Int(ENOSPC) { return true }
        if e.domain == NSCocoaErrorDomain && e.code == CocoaError.fileWriteOutOfSpace.rawValue { return true }
        if let under = e.userInfo[NSUnderlyingErrorKey] as? Error { return isNoSpace(under) }
        return false
    }

    /// The file a full-disk error names, when it names one.
    public static func path(of error: Error) -> String? {
        if case FileWriteError.noSpace(let p) = error { return p }
        if case FileWriteError.cannotWrite(let p, _) = error { return p }
        let info = (error as NSError).userInfo
        return info[NSFilePathErrorKey] as? String ?? (info[NSURLErrorKey] as? URL)?.path
    }
}

/// Writes files so that a reader never sees half of one: the bytes go to a temporary file in
/// the same folder, which is renamed over the destination only once it is complete.
public enum AtomicFile {
    /// Writes `data` to `path` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { handle in try handle.write(contentsOf: data) }
    }

    /// Streams content to `path` atomically: `body` writes into the temporary file's handle.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/.tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))-" + url.lastPathComponent
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            if errno == ENOSPC { throw FileWriteError.noSpace(path: path) }
            throw FileWriteError.cannotWrite(path: path, reason: "cannot create a temporary file in \(dir)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            do {
                try body(handle)
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(tmp, path) == 0 else {
                throw FileWriteError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let e as FileWriteError {
            unlink(tmp)
            throw e
        } catch {
            unlink(tmp)
            if FileWriteError.isNoSpace(error) { throw FileWriteError.noSpace(path: path) }
            throw FileWriteError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}
