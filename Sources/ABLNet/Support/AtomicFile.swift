import Foundation

/// Errors of writing files.
public enum FileWriteError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): return "\(path): cannot write: \(reason)"
        }
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
            throw FileWriteError.cannotWrite(path: path, reason: "\(error)")
        }
    }
}
