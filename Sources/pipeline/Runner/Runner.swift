import ABLNet
import CanonicalJSON
import Foundation

/// Runs the stages of a manifest, each cached by content hash, upstream first.
///
/// A stage is *fresh* when its folder holds a valid `stage.json` whose outputs all exist with
/// their recorded digests and whose cache key equals the one computed now from the manifest's
/// parameters, the output digests of its upstream stages, the digests of the outside files it
/// reads and its format version. Anything else is stale or never run, and is never trusted.
///
/// Over several ranks (`mpirun -np N abl run`), rank 0 alone decides which stage runs, holds
/// the lock and writes every output and record, exactly as one process would; it tells the
/// other ranks each decision, they run the stages that train with it (`runsOnEveryRank`) into a
/// scratch folder of their own that is then deleted, and every rank waits at a barrier until
/// rank 0 has renamed the stage into place before going on. The run folder must be on a file
/// system every rank reads.
final class Runner {
    let manifest: Manifest
    let stages: [any Stage]
    let quiet: Bool
    let group: any Collective
    /// Digests of outside files, computed once per process.
    private var fileDigests: [String: String] = [:]

    init(manifest: Manifest, stages: [any Stage]? = nil, quiet: Bool = false, group: any Collective = SingleProcess()) {
        self.manifest = manifest
        self.stages = stages ?? StageGraph.stages(for: manifest)
        self.quiet = quiet
        self.group = group
    }

    var runFolder: String { manifest.runFolder }
    var ownFolder: RunFolder { RunFolder(path: runFolder, stageNames: stages.map(\.name)) }
    func folder(_ stage: String) -> String { runFolder + "/" + stage }

    /// One line per stage of a run: what happened and how long it took.
    struct Summary: CustomStringConvertible {
        let stage: String
        let ran: Bool
        let reason: String
        let seconds: Double
        var description: String {
            ran ? "\(stage): ran (\(reason)) in \(Progress.time(seconds))"
                : "\(stage): cached (fresh) in \(Progress.time(seconds))"
        }
    }

    // MARK: status

    /// The inputs of a stage as they are now, or nil when an upstream stage is not fresh.
    private func currentInputs(_ s: any Stage, states: [String: (StageState, StageRecord?)]) throws -> [String: String]? {
        var inputs: [String: String] = [:]
        for u in s.upstream {
            guard let (state, record) = states[u], state.isFresh, let r = record else { return nil }
            inputs["upstream:" + u] = try r.outputDigest
        }
        for path in s.externalInputs(manifest) {
            inputs["file:" + path] = try digest(ofInput: path)
        }
        return inputs
    }

    /// SHA-256 of an outside file, or of a folder's files (relative names and contents).
    private func digest(ofInput path: String) throws -> String {
        if let d = fileDigests[path] { return d }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw StageError.failed(stage: "inputs", reason: "\(path): no such file or folder")
        }
        let d: String
        if isDir.boolValue {
            var listing: [String: JSON] = [:]
            for rel in Runner.filesUnder(path) {
                listing[rel] = .string(try SHA256.hex(ofFile: path + "/" + rel))
            }
            d = try SHA256.hex(of: JSON.object(listing).canonical)
        } else {
            d = try SHA256.hex(ofFile: path)
        }
        fileDigests[path] = d
        return d
    }

    /// The state of one stage, given the states of the stages before it.
    private func state(of s: any Stage, states: [String: (StageState, StageRecord?)]) throws -> (StageState, StageRecord?) {
        guard let record = StageRecord.read(folder: folder(s.name)) else {
            return (FileManager.default.fileExists(atPath: folder(s.name)) ? .stale("no valid stage.json") : .neverRun, nil)
        }
        for (file, recorded) in record.outputs.sorted(by: { $0.key < $1.key }) {
            let path = folder(s.name) + "/" + file
            var st = stat()
            guard lstat(path, &st) == 0 else { return (.stale("output missing: \(file)"), record) }
            guard st.st_mode & S_IFMT == S_IFREG else {
                return (.stale("output damaged: \(file) is a \(InputFile.kind(st.st_mode)), not a regular file"), record)
            }
            let digest: String
            do { digest = try SHA256.hex(ofFile: path) } catch { return (.stale("output damaged: \(error)"), record) }
            guard digest == recorded else { return (.stale("output altered: \(file)"), record) }
        }
        if record.formatVersion != s.formatVersion { return (.stale("format version changed"), record) }
        if record.parameters != s.parameters(manifest) { return (.stale("parameters changed"), record) }
        guard let inputs = try currentInputs(s, states: states) else {
            let bad = s.upstream.first { !(states[$0]?.0.isFresh ?? false) } ?? "?"
            return (.stale("upstream \(bad) is not fresh"), record)
        }
        if inputs != record.inputs {
            let changed = Set(inputs.keys).union(record.inputs.keys).sorted().filter { inputs[$0] != record.inputs[$0] }
            return (.stale("input changed: " + changed.map { $0.replacingOccurrences(of: "upstream:", with: "").replacingOccurrences(of: "file:", with: "") }.joined(separator: ", ")), record)
        }
        let key = try StageRecord.cacheKey(stage: s.name, parameters: s.parameters(manifest), inputs: inputs, formatVersion: s.formatVersion)
        if key != record.cacheKey { return (.stale("cache key differs"), record) }
        return (.fresh, record)
    }

    /// Every stage with its state, upstream first.
    func status() throws -> [(stage: String, state: StageState)] {
        var states: [String: (StageState, StageRecord?)] = [:]
        var out: [(String, StageState)] = []
        for s in stages {
            let st = try state(of: s, states: states)
            states[s.name] = st
            out.append((s.name, st.0))
        }
        return out
    }

    // MARK: run

    /// Brings stages up to date. With `target`, only that stage and what it needs; with `force`,
    /// the target (or, without a target, every stage) is re-executed even when fresh.
    @discardableResult
    func run(target: String? = nil, force: Bool = false) throws -> [Summary] {
        if let t = target, !stages.contains(where: { $0.name == t }) {
            throw StageError.unknownStage(t, known: stages.map(\.name))
        }
        guard group.isRoot else { try followRoot(); return [] }
        try ownFolder.prepare()
        let lock = try RunLock(folder: runFolder)
        defer { lock.release() }
        removeLeftovers()

        let wanted = target.map { closure(of: $0) } ?? Set(stages.map(\.name))
        var states: [String: (StageState, StageRecord?)] = [:]
        var summaries: [Summary] = []
        for s in stages {
            let t0 = Date()
            let st = try state(of: s, states: states)
            guard wanted.contains(s.name) else { states[s.name] = st; tellRanks(run: false); continue }
            let forced = force && (target == nil || target == s.name)
            if st.0.isFresh && !forced {
                tellRanks(run: false)
                states[s.name] = st
                summaries.append(Summary(stage: s.name, ran: false, reason: "fresh", seconds: Date().timeIntervalSince(t0)))
                if !quiet { Console.error(summaries.last!.description) }
                continue
            }
            let reason = forced && st.0.isFresh ? "forced" : st.0.description
            if !quiet { Console.error("\(s.name): running (\(reason))") }
            guard let inputs = try currentInputs(s, states: states) else {
                throw StageError.failed(stage: s.name, reason: "an upstream stage is not fresh")
            }
            tellRanks(run: true)
            let record = try execute(s, inputs: inputs)
            group.barrier()   // the stage's folder is in place: the other ranks may read it
            states[s.name] = (.fresh, record)
            summaries.append(Summary(stage: s.name, ran: true, reason: reason, seconds: Date().timeIntervalSince(t0)))
            if !quiet { Console.error(summaries.last!.description) }
        }
        return summaries
    }

    /// Rank 0 tells the other ranks whether the next stage runs (one byte each, every stage in order).
    private func tellRanks(run: Bool) {
        guard group.isDistributed else { return }
        var flag: UInt8 = run ? 1 : 0
        withUnsafeMutableBytes(of: &flag) { group.broadcast($0) }
    }

    /// A rank other than 0: for every stage, rank 0's decision; a stage that runs on every rank
    /// runs here into a scratch folder (its training steps pair with rank 0's), deleted after.
    private func followRoot() throws {
        let fm = FileManager.default
        for s in stages {
            var flag: UInt8 = 0
            withUnsafeMutableBytes(of: &flag) { group.broadcast($0) }
            guard flag == 1 else { continue }
            if s.runsOnEveryRank {
                let scratch = fm.temporaryDirectory.path + "/abl-rank\(group.rank)-\(getpid())-\(s.name)"
                try? fm.removeItem(atPath: scratch)
                do { try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true) } catch {
                    throw StageError.failed(stage: s.name, reason: "cannot create the scratch folder \(scratch) of rank \(group.rank) (set TMPDIR to a writable folder)")
                }
                defer { try? fm.removeItem(atPath: scratch) }
                do {
                    try s.run(StageContext(manifest: manifest, runFolder: runFolder, workFolder: scratch, quiet: true, group: group))
                } catch let e as StageError {
                    throw e
                } catch {
                    throw StageError.failed(stage: s.name, reason: "\(error)")
                }
            }
            group.barrier()
        }
    }

    /// `model.shards` on one process: the stage runs once per shard, each on its own thread
    /// with its own replica, shard 0 here into `work` and the others into scratch folders, the
    /// shards summing over each other as MPI ranks would. A shard other than 0 that fails ends
    /// the process after printing why (the others would wait for it forever), as MPI_Abort does.
    private func runAsThreadShards(_ s: any Stage, work: String) throws {
        // stages are plain values, read by every shard, never changed
        let context = UnsafeSendable((stage: s, manifest: manifest, runFolder: runFolder, quiet: quiet))
        let shards = manifest.threadShards
        _ = try ThreadRanks.run(shards, onOtherRankError: { r, e in
            Console.error("error (shard \(r) of \(shards)): \(e)")
            exit(1)
        }) { shard in
            let c = context.value
            guard shard.rank > 0 else {
                return try c.stage.run(StageContext(manifest: c.manifest, runFolder: c.runFolder, workFolder: work, quiet: c.quiet, group: shard))
            }
            let fm = FileManager.default
            let scratch = fm.temporaryDirectory.path + "/abl-shard\(shard.rank)-\(getpid())-\(c.stage.name)"
            try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? fm.removeItem(atPath: scratch) }
            try c.stage.run(StageContext(manifest: c.manifest, runFolder: c.runFolder, workFolder: scratch, quiet: true, group: shard))
        }
    }

    /// A stage and every stage it needs, transitively.
    private func closure(of name: String) -> Set<String> {
        var out: Set<String> = []
        var todo = [name]
        while let n = todo.popLast() {
            guard out.insert(n).inserted, let s = stages.first(where: { $0.name == n }) else { continue }
            todo += s.upstream
        }
        return out
    }

    /// Runs a stage into a temporary folder, records it, and renames it into place.
    private func execute(_ s: any Stage, inputs: [String: String]) throws -> StageRecord {
        let fm = FileManager.default
        try ownFolder.checkReplaceable(s.name)
        let work = runFolder + "/" + RunFolder.temporaryName("tmp", stage: s.name, pid: getpid())
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        let started = Date()
        do {
            if manifest.threadShards > 1 && s.runsOnEveryRank {
                try runAsThreadShards(s, work: work)
            } else {
                try s.run(StageContext(manifest: manifest, runFolder: runFolder, workFolder: work, quiet: quiet, group: group))
            }
            for out in s.declaredOutputs(manifest) where !fm.fileExists(atPath: work + "/" + out) {
                throw StageError.missingOutput(stage: s.name, file: out)
            }
            var outputs: [String: String] = [:]
            for rel in Runner.filesUnder(work) {
                outputs[rel] = try SHA256.hex(ofFile: work + "/" + rel)
            }
            let ended = Date()
            let params = s.parameters(manifest)
            let record = StageRecord(
                stage: s.name,
                cacheKey: try StageRecord.cacheKey(stage: s.name, parameters: params, inputs: inputs, formatVersion: s.formatVersion),
                parameters: params, inputs: inputs, outputs: outputs, formatVersion: s.formatVersion,
                volatile: s.volatileOutputs(manifest).filter { outputs[$0] != nil }, started: Runner.iso(started), ended: Runner.iso(ended), durationSeconds: ended.timeIntervalSince(started),
                producedBy: .current)
            // The record is written last: a folder without it is never trusted.
            try AtomicFile.write(Data(record.json.pretty.utf8), to: work + "/" + StageRecord.fileName)
            let final = folder(s.name)
            let old = runFolder + "/" + RunFolder.temporaryName("old", stage: s.name, pid: getpid())
            if fm.fileExists(atPath: final) { try fm.moveItem(atPath: final, toPath: old) }
            try fm.moveItem(atPath: work, toPath: final)
            try? fm.removeItem(atPath: old)
            try ownFolder.recordCreated(s.name)
            return record
        } catch {
            try? fm.removeItem(atPath: work)
            if let e = error as? StageError { throw e }
            if FileWriteError.isNoSpace(error) {
                let file = FileWriteError.path(of: error).map { $0.hasPrefix(work + "/") ? String($0.dropFirst(work.count + 1)) : $0 }
                throw StageError.noSpace(stage: s.name, file: file ?? "its outputs")
            }
            throw StageError.failed(stage: s.name, reason: "\(error)")
        }
    }

    /// Removes temporary folders that an interrupted run left behind.
    private func removeLeftovers() {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: runFolder)) ?? [] where ownFolder.isLeftover(entry) {
            try? fm.removeItem(atPath: runFolder + "/" + entry)
        }
    }

    /// Relative paths of the regular files under `folder`, sorted, `stage.json` excluded.
    static func filesUnder(_ folder: String) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: folder) else { return [] }
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: folder + "/" + rel, isDirectory: &isDir), !isDir.boolValue, rel != StageRecord.fileName {
                out.append(rel)
            }
        }
        return out.sorted()
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// An exclusive lock on a run folder (flock on `<run>/.lock`), so two runs never write one folder.
final class RunLock {
    private let fd: Int32

    init(folder: String) throws {
        let path = folder + "/.lock"
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw StageError.runFolder("\(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StageError.locked(folder)
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
