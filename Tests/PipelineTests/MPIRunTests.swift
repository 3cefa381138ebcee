import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import XCTest
@testable import pipeline

/// `mpirun -np 2 abl run` against `abl run`: the same isolated samples, the same scores, one
/// writer, and a failing rank that fails the whole run. Skips only where Open MPI's mpirun is
/// absent (scripts/test.sh installs it, and sets ABL_REQUIRE_MPI so that a missing one fails).
final class MPIRunTests: XCTestCase {
    var products: URL {
        URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0]).deletingLastPathComponent()
    }
    var abl: String { products.appendingPathComponent("abl").path }

    var mpirun: String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { $0 + "/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a command with a time limit (a stalled rank must not hang the suite).
    func run(_ exe: String, _ args: [String], environment: [String: String] = [:], limit: TimeInterval = 300) throws -> (code: Int32, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        // In containers without ptrace rights Open MPI's shared-memory single copy (CMA) fails on
        // large messages; plain copies work everywhere.
        let mpi = ["OMPI_MCA_btl_vader_single_copy_mechanism": "none"]
        p.environment = ProcessInfo.processInfo.environment.merging(mpi) { $1 }.merging(environment) { $1 }
        let err = Pipe()
        p.standardOutput = err
        p.standardError = err
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: killer)
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// mpirun's arguments for `ranks` local processes on any machine (more ranks than cores; as root).
    func launch(_ ranks: Int) -> [String] {
        ["-np", "\(ranks)", "--oversubscribe"] + (geteuid() == 0 ? ["--allow-run-as-root"] : [])
    }

    func tools() throws -> String {
        if mpirun == nil && ProcessInfo.processInfo.environment["ABL_REQUIRE_MPI"] == "1" {
            XCTFail("ABL_REQUIRE_MPI is set but mpirun is not on PATH")
        }
        guard let mpirun else { throw XCTSkip("mpirun not found on PATH: install openmpi-bin (scripts/install-deps.sh --with-mpi) to run the MPI tests") }
        guard FileManager.default.isExecutableFile(atPath: abl) else { throw XCTSkip("abl binary not found at \(abl)") }
        return mpirun
    }

    func manifest(_ dir: String, _ out: String) -> String {
        let path = dir + "/\(out).json"
        T.writeManifest(ABLStagesTests.smallRun(dir, extra: [
            "output": .string(dir + "/" + out),
            "model": .object(["architecture": .string("small-cnn"), "batch_size": .number(8), "threads": .number(1)]),
            "isolate": .object(["epochs": .number(2), "ratio": .number(0.1)]),
            // the joint objective: clean and isolated samples in one batch (Trainer.jointEpoch)
            "unlearn": .object(["mode": .string("joint"), "objective": .string("complement"), "finetune_epochs": .number(2),
                                "finetune_lr_drop": .number(0), "epochs": .number(0)]),
        ]), path)
        return path
    }

    func testTwoRanksIsolateWhatOneProcessIsolatesAndScoreTheSame() throws {
        let mpirun = try tools()
        let dir = T.tempFolder()
        let single = try run(abl, ["run", manifest(dir, "one")])
        XCTAssertEqual(single.code, 0, single.err)
        let two = try run(mpirun, launch(2) + [abl, "run", manifest(dir, "two")])
        XCTAssertEqual(two.code, 0, two.err)
        XCTAssertTrue(two.err.contains("2 ranks (MPI)"), two.err)
        XCTAssertEqual(two.err.components(separatedBy: "isolate: ran").count - 1, 1, "only rank 0 reports: \(two.err)")

        XCTAssertEqual(try NPY.read(dir + "/two/isolate/isolated.npy").int64, try NPY.read(dir + "/one/isolate/isolated.npy").int64)
        let a = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/one/report/report.json") ?? Data()))
        let b = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/two/report/report.json") ?? Data()))
        XCTAssertEqual(b["versions"]?["ranks"]?.intValue, 2)
        XCTAssertEqual(a["versions"]?["ranks"]?.intValue, 1)
        let md = (try? String(contentsOfFile: dir + "/two/report/report.md", encoding: .utf8)) ?? ""
        XCTAssertTrue(md.contains(", 2 MPI ranks."), md)
        for model in ["no_defense", "abl", "isolation_model", "clean"] {
            for score in ["ca", "asr"] {
                let x = a["models"]?[model]?[score]?.doubleValue, y = b["models"]?[model]?[score]?.doubleValue
                XCTAssertNotNil(x, "\(model).\(score) in \(a)")
                XCTAssertEqual(x ?? 0, y ?? -1, accuracy: 0.002, "\(model).\(score) within 0.2 points")
            }
        }
        // the other rank's scratch folders are gone; the run folder holds only rank 0's stages
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("abl-rank1-") }
        XCTAssertEqual(leftovers, [])
        let again = try run(mpirun, launch(2) + [abl, "run", dir + "/two.json"])
        XCTAssertEqual(again.code, 0, again.err)
        XCTAssertTrue(again.err.contains("isolate: cached"), "2 ranks find their own run fresh: \(again.err)")
    }

    func testWithFixedShardsOneProcessAndTwoRanksGiveTheSameBits() throws {
        let mpirun = try tools()
        let dir = T.tempFolder()
        func sharded(_ out: String) -> String {
            let path = manifest(dir, out)
            var j = try! JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: path)!))
            if case .object(var o) = j, case .object(var model)? = o["model"] {
                model["shards"] = .number(2)
                o["model"] = .object(model)
                j = .object(o)
            }
            T.writeManifest(j, path)
            return path
        }
        let one = try run(abl, ["run", sharded("one")])
        XCTAssertEqual(one.code, 0, one.err)
        let two = try run(mpirun, launch(2) + [abl, "run", sharded("two")])
        XCTAssertEqual(two.code, 0, two.err)
        for file in ["isolate/isolated.npy", "isolate/losses.npy", "isolate/model.safetensors", "unlearn/model.safetensors",
                     "baseline/model.safetensors", "clean/model.safetensors"] {
            let a = FileManager.default.contents(atPath: dir + "/one/" + file)
            XCTAssertNotNil(a, file)
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/two/" + file), a, file)
        }
        // the same decomposition is the same cache key, whatever runs it
        let again = try run(mpirun, launch(2) + [abl, "run", dir + "/one.json"])
        XCTAssertEqual(again.code, 0, again.err)
        XCTAssertFalse(again.err.contains(": ran ("), "2 ranks find the run of one process fresh: \(again.err)")
        let three = try run(mpirun, launch(3) + [abl, "run", dir + "/one.json"], limit: 60)
        XCTAssertNotEqual(three.code, 0)
        XCTAssertTrue(three.err.contains("model.shards is 2"), three.err)
    }

    func testAFailingRankFailsTheWholeRunWithItsMessage() throws {
        let mpirun = try tools()
        let dir = T.tempFolder()
        let m = manifest(dir, "run")
        // rank 1 alone cannot create its scratch folder
        let r = try run(mpirun, ["--oversubscribe"] + (geteuid() == 0 ? ["--allow-run-as-root"] : [])
                        + ["-np", "1", abl, "run", m, ":", "-np", "1", "-x", "TMPDIR=/proc/abl-none", abl, "run", m], limit: 120)
        XCTAssertNotEqual(r.code, 0, r.err)
        XCTAssertTrue(r.err.contains("error (rank 1 of 2)") && r.err.contains("scratch folder"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/isolate/stage.json"), "nothing half-written is recorded")
    }

    func testALaunchWithoutALoadableMPIIsAClearError() throws {
        guard FileManager.default.isExecutableFile(atPath: abl) else { throw XCTSkip("abl binary not found at \(abl)") }
        let dir = T.tempFolder()
        let r = try run(abl, ["run", manifest(dir, "run")], environment: ["OMPI_COMM_WORLD_SIZE": "2", "ABL_MPI_LIBRARY": "/nonexistent/libmpi.so.40"], limit: 60)
        XCTAssertEqual(r.code, 1, r.err)
        XCTAssertTrue(r.err.contains("MPI is unavailable") && r.err.contains("/nonexistent/libmpi.so.40"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run"), "refused before any stage")
    }

    func testOnlyRunWorksOverSeveralRanks() throws {
        guard FileManager.default.isExecutableFile(atPath: abl) else { throw XCTSkip("abl binary not found at \(abl)") }
        let dir = T.tempFolder()
        let r = try run(abl, ["status", manifest(dir, "run")], environment: ["OMPI_COMM_WORLD_SIZE": "2"], limit: 60)
        XCTAssertEqual(r.code, 2, r.err)
        XCTAssertTrue(r.err.contains("only `abl run` works over several MPI ranks"), r.err)
    }

    func testTwoRanksPoisonWithCLAndFCTheSameBytesAsOneProcess() throws {
        let mpirun = try tools()
        for kind in ["cl", "fc"] {
            let dir = T.tempFolder(kind)
            // 150 target-class images: two chunks of optimisation (128 and 22), one per rank
            func manifest(_ out: String, checkpoint: String?) -> String {
                var surrogate: [String: JSON] = ["architecture": .string("small-cnn"), "epochs": .number(1)]
                if let checkpoint { surrogate["checkpoint"] = .string(checkpoint) }
                let m = JSON.object(["name": .string(kind), "seed": .number(1), "output": .string(dir + "/" + out),
                                     "dataset": T.idxSection(in: dir, train: 450, test: 30),
                                     "attack": .object(["kind": .string(kind), "rate": .number(1), "steps": .number(2)]),
                                     "surrogate": .object(surrogate),
                                     "model": .object(["architecture": .string("small-cnn"), "batch_size": .number(8), "threads": .number(1)])])
                T.writeManifest(m, dir + "/\(out).json")
                return dir + "/\(out).json"
            }
            let trained = try run(abl, ["run", manifest("s", checkpoint: nil), "--stage", "surrogate"])
            XCTAssertEqual(trained.code, 0, trained.err)
            // one surrogate for both, so that the attack alone is compared
            let model = dir + "/s/surrogate/model.safetensors"
            let one = try run(abl, ["run", manifest("one", checkpoint: model), "--stage", "poison"])
            XCTAssertEqual(one.code, 0, one.err)
            let two = try run(mpirun, launch(2) + [abl, "run", manifest("two", checkpoint: model), "--stage", "poison"])
            XCTAssertEqual(two.code, 0, two.err)
            for file in ["train_images.npy", "triggered_test_images.npy"] {
                let a = FileManager.default.contents(atPath: dir + "/one/poison/" + file)
                XCTAssertNotNil(a)
                XCTAssertEqual(FileManager.default.contents(atPath: dir + "/two/poison/" + file), a, "\(kind): \(file)")
            }
            let a = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/one/poison/attack.json") ?? Data()))
            let b = try JSON.parse(bytes: [UInt8](FileManager.default.contents(atPath: dir + "/two/poison/attack.json") ?? Data()))
            XCTAssertEqual(a["poisoned"]?.intValue, 150, kind)
            for (key, value) in a["details"]?.objectValue ?? [:] {
                XCTAssertEqual(value.doubleValue ?? -1, b["details"]?[key]?.doubleValue ?? 1, accuracy: 1e-9, "\(kind): \(key)")
            }
        }
    }
}
