import ABLNet
import ArgumentParser
import Foundation

struct Sanitize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Clean a dataset you were given: find out whether it holds a backdoor, train a clean model, list the suspicious samples.",
        discussion: """
        Builds the manifest for our default ABL on your data (no attack is applied), writes it to \
        <output>/manifest.json and runs it. Give a trusted clean test set if you have one: the \
        detection verdict judges each label's training samples against it. Without one, a share \
        of your data becomes the test set, detection is turned off (that set holds any poison too) \
        and samples are isolated by the loss statistics alone.

        Outputs, under --output:
          report/report.md, .html     the verdict, accuracy, what was isolated
          export/isolated/            isolated.csv and .json, PNGs, README.txt
          unlearn/model.safetensors   the cleaned model (PyTorch names)
          manifest.json               what ran: edit it, then `abl run` it
        """)

    @Option(help: "Training images: a .npy of uint8, N,H,W or N,H,W,C.")
    var trainImages: String?

    @Option(help: "Training labels: a .npy of integers, one per image.")
    var trainLabels: String?

    @Option(help: "Trusted clean test images (.npy); with --test-labels.")
    var testImages: String?

    @Option(help: "Test labels (.npy).")
    var testLabels: String?

    @Option(help: "An ImageFolder tree (<class>/<image>), instead of .npy files.")
    var imageFolder: String?

    @Option(help: "With --image-folder: a trusted clean test tree.")
    var testFolder: String?

    @Option(help: "With --image-folder: stored image size, as WxH.")
    var size = "32x32"

    @Option(help: "With --image-folder: stored channels (1 or 3).")
    var channels = 3

    @Option(help: "Without a test set: the share of each class taken as the test set.")
    var testRatio = 0.1

    @Option(help: "Class names, comma-separated, in label order.")
    var classNames: String?

    @Option(help: "A .npy saying which training rows are poisoned (booleans or row indices, by row as given, before the test split), if known: the report then gives precision and recall.")
    var poisonIndicator: String?

    @Option(help: "Triggered test images (.npy), if you have them: the report then gives ASR for the no-defense and the cleaned model.")
    var triggeredImages: String?

    @Option(help: "The label the triggered images are sent to (with --triggered-images).")
    var triggeredTarget: Int?

    @Option(help: "The triggered images' true labels (.npy), for RA.")
    var triggeredLabels: String?

    @Option(help: "The epoch budget.")
    var schedule: SanitizePlan.Schedule = .full

    @Option(help: "The run folder (default: runs/sanitize-<name>).")
    var output: String?

    @Option(help: "The run's name.")
    var name = "sanitize"

    @Option(help: "Worker threads (default: every core).")
    var threads: Int?

    @Option(help: "Seed of every random choice.")
    var seed = 0

    @Flag(help: "Write and validate the manifest, print where it is, and stop.")
    var manifestOnly = false

    func validate() throws {
        if imageFolder == nil {
            guard trainImages != nil, trainLabels != nil else { throw ValidationError("give --train-images and --train-labels (.npy), or --image-folder") }
        } else if trainImages != nil || trainLabels != nil {
            throw ValidationError("give either --image-folder or --train-images/--train-labels, not both")
        }
        guard (testImages == nil) == (testLabels == nil) else { throw ValidationError("--test-images and --test-labels go together") }
        guard (triggeredImages == nil) == (triggeredTarget == nil) else { throw ValidationError("--triggered-images and --triggered-target go together") }
        guard testRatio > 0, testRatio < 1 else { throw ValidationError("--test-ratio must be in (0, 1)") }
    }

    func plan() throws -> SanitizePlan {
        let input: SanitizePlan.Input
        if let root = imageFolder {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 <= 4096 }) else { throw ValidationError("--size must be WxH, e.g. 32x32") }
            input = .imageFolder(root: root, testDir: testFolder, testRatio: testRatio, channels: channels, height: parts[1], width: parts[0])
        } else {
            input = .npy(trainImages: trainImages!, trainLabels: trainLabels!, testImages: testImages, testLabels: testLabels, testRatio: testRatio)
        }
        var p = SanitizePlan(name: name, output: output ?? "runs/sanitize-\(name)", input: input)
        p.schedule = schedule
        p.classNames = classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        p.poisonIndicator = poisonIndicator
        p.triggeredImages = triggeredImages; p.triggeredTarget = triggeredTarget; p.triggeredTrueLabels = triggeredLabels
        p.threads = threads; p.seed = seed
        return p
    }

    func run() throws {
        let t0 = Date()
        do {
            let plan = try plan()
            let json = plan.manifest()
            let file = SanitizePlan.absolute(plan.output) + "/manifest.json"
            let m = try Manifest.resolve(json, file: file)
            if plan.input.testFromTrainingData {
                Console.error("note: no test set given, so \(plan.testRatioText) of each class is the test set; it holds any poison too, so detection is off and samples are isolated by their loss statistics alone (docs/SANITIZE.md)")
            }
            let runner = Runner(manifest: m)
            try runner.ownFolder.prepare()
            try AtomicFile.write(Data(json.pretty.utf8), to: file)
            Console.error("sanitize: manifest written to \(file)")
            if manifestOnly { return }
            try runner.run()
            Console.error("sanitize \(m.name): done in \(Progress.time(Date().timeIntervalSince(t0)))")
            Console.error("  report:       \(m.runFolder)/report/report.md (and report.html)")
            Console.error("  isolated:     \(m.runFolder)/export/\(m.config.export.folder)/isolated.csv")
            Console.error("  clean model:  \(m.runFolder)/unlearn/model.safetensors")
        } catch let e as ManifestError {
            throw fail(e, code: 2)
        } catch {
            throw fail(error)
        }
    }
}

extension SanitizePlan.Schedule: ExpressibleByArgument {}

extension SanitizePlan {
    var testRatioText: String {
        switch input {
        case .npy(_, _, _, _, let r), .imageFolder(_, _, let r, _, _, _): return String(format: "%.0f %%", r * 100)
        }
    }
}
