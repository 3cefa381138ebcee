import ABLNet
import ArgumentParser
import CanonicalJSON
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and evaluation speed (images/s) and peak memory of a model.",
        discussion: "Random data, release build expected. Training = forward + cross-entropy + backward + SGD step. Figures vary between runs on a shared machine: compare within one run.")

    @Option(help: "Architecture: wrn-16-1, preact-resnet18 or small-cnn.")
    var model: Architecture = .wrn16_1

    @Option(help: "Batch size.")
    var batch = 128

    @Option(help: "Timed steps per measurement (after 2 warm-up steps).")
    var steps = 20

    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int?

    @Option(help: "Input shapes as CxHxW, comma-separated.")
    var inputs = "3x32x32,1x28x28"

    @Option(help: "Output columns per convolution sgemm call (1: one image per call, the default).")
    var convColumns = 1

    /// The 3x3 convolution paths `--conv` chooses between.
    enum ConvPath: String, CaseIterable, ExpressibleByArgument {
        case direct, directStride1 = "direct-stride1", im2col
    }

    @Option(help: "3x3 convolutions: direct (the default: Conv3x3Direct at stride 1 and 2), direct-stride1 (stride-2 layers on im2col) or im2col (im2col + sgemm everywhere), to compare.")
    var conv: ConvPath = .direct

    @Option(help: "Images per weight-gradient pass of the direct 3x3 kernels.")
    var directChunk = 8

    /// `--kernels`: the widest this CPU runs, or one set.
    enum KernelChoice: String, CaseIterable, ExpressibleByArgument {
        case auto, avx512, avx2
        var set: KernelSet {
            switch self {
            case .auto: return .best
            case .avx512: return .avx512
            case .avx2: return .avx2
            }
        }
    }

    @Option(help: "Hand-written kernels: auto (the widest this CPU runs), avx512 or avx2, to compare.")
    var kernels: KernelChoice = .auto

    @Flag(help: "One JSON object per input shape and line.")
    var json = false

    @Flag(help: "Time each distinct 3x3 convolution and BatchNorm shape of the model alone (ms per call) instead of whole steps.")
    var layers = false

    @Option(help: "With --layers: timed calls per measurement (the median is reported, after 2 warm-up calls).")
    var calls = 9

    func validate() throws {
        guard batch > 0, steps > 0, calls > 0 else { throw ValidationError("batch and steps must be positive") }
    }

    /// The settings the options describe.
    var engine: EngineSettings {
        var c = ConvSettings()
        c.targetColumns = convColumns
        c.directKernels = conv != .im2col
        c.directStride2 = conv == .direct
        c.directChunk = max(1, directChunk)
        return EngineSettings(workers: threads ?? ProcessInfo.processInfo.activeProcessorCount, kernels: kernels.set, conv: c)
    }

    func run() throws {
        let engine = self.engine
        let blasCore = BLAS.coreName + (BLAS.replacedCore.map { " (set by abl; OpenBLAS chose \($0))" } ?? "")
        if !json {
            print("abl \(ToolVersion.description)")
            print("CPU \(CPUFeatures.model), vector features \(CPUFeatures.names.joined(separator: " ")); kernels \(engine.kernels.rawValue)")
            print("OpenBLAS core \(blasCore), engine workers \(engine.workers) (OpenBLAS single-threaded inside each)")
        }
        var pathsShown = false
        for spec in inputs.split(separator: ",") {
            let d = spec.split(separator: "x").compactMap { Int($0) }
            guard d.count == 3, [1, 3].contains(d[0]), d[1] == d[2], d[1] >= 8 else { throw fail(ValidationError("bad input shape \(spec): use CxHxW with C 1 or 3 and H = W >= 8")) }
            if layers {
                do { try printLayers(channels: d[0], size: d[1], engine: engine) } catch { throw fail(error) }
                continue
            }
            let r: Benchmark.Result
            do { r = try Benchmark.run(architecture: model, channels: d[0], size: d[1], batch: batch, steps: steps, engine: engine) } catch { throw fail(error) }
            if json {
                let o = JSON.object([
                    "model": .string(r.model), "batch": .number(Double(r.batch)), "input": .string(r.input),
                    "train_images_per_s": .number((r.trainImagesPerSecond * 10).rounded() / 10),
                    "eval_images_per_s": .number((r.evalImagesPerSecond * 10).rounded() / 10),
                    "peak_rss_mb": .number((r.peakRSSMegabytes * 10).rounded() / 10), "threads": .number(Double(r.threads)),
                    "openblas_core": .string(r.coreName), "openblas_detected_core": .string(BLAS.replacedCore ?? r.coreName), "conv": .string(conv.rawValue), "kernels": .string(engine.kernels.rawValue),
                    "cpu": .string(CPUFeatures.model), "cpu_features": .string(CPUFeatures.names.joined(separator: " ")),
                    "abl": .string(ToolVersion.number), "commit": .string(ToolVersion.commit), "local_changes": .bool(ToolVersion.modified),
                    "layers": .array(r.layerPaths.map { .string("\($0.name) \($0.shape): \($0.forward)/\($0.weightGradient)/\($0.inputGradient)") }),
                ])
                print(o.canonical)
            } else {
                print(String(format: "%@ batch %d input %@: train %.1f images/s, eval %.1f images/s, peak RSS %.0f MB",
                             r.model, r.batch, r.input, r.trainImagesPerSecond, r.evalImagesPerSecond, r.peakRSSMegabytes))
                if !pathsShown {
                    print("  kernels per convolution (forward / weight gradient / input gradient):")
                    for p in r.layerPaths { print("    \(p.name) (\(p.shape)): \(p.forward) / \(p.weightGradient) / \(p.inputGradient)") }
                    pathsShown = true
                }
            }
        }
    }

    /// `--layers`: one line (or JSON object) per distinct layer shape.
    private func printLayers(channels: Int, size: Int, engine: EngineSettings) throws {
        let rows = try Benchmark.layers(architecture: model, channels: channels, size: size, batch: batch, calls: calls,
                                        engine: engine)
        if !json {
            print("\(model.rawValue) batch \(batch) input \(channels)x\(size)x\(size), ms per call (median of \(calls)), each shape alone:")
            print("  kind       shape               layers  forward  weight-grad  input-grad  path")
        }
        for r in rows {
            if json {
                var o: [String: JSON] = [
                    "model": .string(model.rawValue), "batch": .number(Double(batch)), "input": .string("\(channels)x\(size)x\(size)"),
                    "kind": .string(r.kind.rawValue), "shape": .string(r.shape), "in_channels": .number(Double(r.inChannels)),
                    "out_channels": .number(Double(r.outChannels)), "height": .number(Double(r.height)), "width": .number(Double(r.width)),
                    "stride": .number(Double(r.stride)), "layers": .number(Double(r.count)), "path": .string(r.path),
                    "forward_ms": .number((r.forwardMs * 1000).rounded() / 1000), "weight_grad_ms": .number((r.weightGradientMs * 1000).rounded() / 1000),
                    "threads": .number(Double(engine.workers)), "kernels": .string(engine.kernels.rawValue),
                ]
                if let dx = r.inputGradientMs { o["input_grad_ms"] = .number((dx * 1000).rounded() / 1000) }
                if let b = r.backwardMs { o["backward_ms"] = .number((b * 1000).rounded() / 1000) }
                print(JSON.object(o).canonical)
            } else {
                let dx = r.inputGradientMs.map { String(format: "%10.3f", $0) } ?? String(repeating: " ", count: 9) + "-"
                print("  " + r.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0) + r.shape.padding(toLength: 19, withPad: " ", startingAt: 0)
                      + String(format: " %6d %8.3f %12.3f ", r.count, r.forwardMs, r.weightGradientMs)
                      + dx + "  " + r.path)
            }
        }
    }
}

extension Architecture: ExpressibleByArgument {}
