import ABLNet
import CanonicalJSON
import Foundation

/// The run folder belongs to the tool. Its record, `.abl-run`, says so and lists the stage
/// folders the tool created there. An `output` that exists is adopted only when it is empty or
/// already a run folder; inside it, only stage folders the tool made are ever replaced, and only
/// its own temporary folders are removed.
struct RunFolder {
    static let recordName = ".abl-run"

    let path: String
    /// The stage names the manifest declares.
    let stageNames: [String]

    var recordPath: String { path + "/" + RunFolder.recordName }

    /// Creates the folder, or adopts an existing one when it is empty or a run folder.
    /// Errors name the manifest key `output`.
    func prepare() throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw StageError.runFolder("output \(path) is an existing file, not a folder: set the manifest key `output` to a new or empty folder (abl never replaces it)")
            }
            if fm.fileExists(atPath: recordPath) { return }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            guard entries.isEmpty || isLegacyRun(entries) else {
                throw StageError.runFolder("output \(path) is an existing folder that is not an abl run folder (no \(RunFolder.recordName) record) and not empty: set the manifest key `output` to a new or empty folder (abl never deletes files it did not create)")
            }
        } else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw StageError.runFolder("output \(path): cannot create the folder: \(RunFolder.cause(error))")
            }
        }
        try writeRecord(stages: isLegacyRun((try? fm.contentsOfDirectory(atPath: path)) ?? []) ? legacyStages() : [])
    }

    /// A run folder written before runs kept a record: a lock file and a stage folder with its `stage.json`.
    private func isLegacyRun(_ entries: [String]) -> Bool {
        entries.contains(".lock") && !legacyStages().isEmpty
    }

    private func legacyStages() -> [String] {
        stageNames.filter { StageRecord.read(folder: path + "/" + $0) != nil }
    }

    /// The stage folders the tool created here.
    func createdStages() -> Set<String> {
        guard let bytes = try? InputFile.read(recordPath, limit: 1 << 20), let j = try? JSON.parse(bytes: bytes) else { return [] }
        return Set(j["stages"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    func writeRecord(stages: [String]) throws {
        let j = JSON.object(["format": .string("abl-run"), "stages": .array(stages.sorted().map(JSON.string))])
        try AtomicFile.write(Data(j.pretty.utf8), to: recordPath)
    }

    /// Adds a stage to the record of created stage folders.
    func recordCreated(_ stage: String) throws {
        var s = createdStages()
        guard s.insert(stage).inserted else { return }
        try writeRecord(stages: Array(s))
    }

    /// Throws unless the entry at a stage's folder is absent or a folder the tool made (one it
    /// recorded, or one holding a stage record).
    func checkReplaceable(_ stage: String) throws {
        let target = path + "/" + stage
        var st = stat()
        guard lstat(target, &st) == 0 else { return }
        let ours = st.st_mode & S_IFMT == S_IFDIR
            && (createdStages().contains(stage) || FileManager.default.fileExists(atPath: target + "/" + StageRecord.fileName))
        guard ours else {
            throw StageError.runFolder("\(target) was not created by abl (it is not a stage folder it recorded): move it away to run stage \(stage); abl never deletes or replaces it")
        }
    }

    /// The names of temporary folders a run of `stage` by process `pid` uses.
    static func temporaryName(_ kind: String, stage: String, pid: Int32) -> String { ".\(kind)-\(stage)-\(pid)" }

    /// Whether an entry is a temporary folder an interrupted run left behind (`.tmp-<stage>-<pid>`
    /// or `.old-<stage>-<pid>`); nothing else is ever removed.
    func isLeftover(_ entry: String) -> Bool {
        for kind in ["tmp", "old"] {
            for s in stageNames {
                let prefix = ".\(kind)-\(s)-"
                if entry.hasPrefix(prefix), let pid = Int32(entry.dropFirst(prefix.count)), pid > 0 { return true }
            }
        }
        return false
    }

    /// An error's own words: Foundation's underlying POSIX message when there is one.
    static func cause(_ error: Error) -> String {
        let e = error as NSError
        if let under = e.userInfo[NSUnderlyingErrorKey] as? NSError, under.domain == NSPOSIXErrorDomain,
           let text = strerror(Int32(under.code)) {
            return String(cString: text)
        }
        return "\(error)"
    }
}
