import Foundation

/// The processor a run or a benchmark ran on, as Linux reports it in /proc/cpuinfo: its model
/// name and the vector features that decide which kernels are fast on it. Figures are only
/// comparable between machines with the same model and features.
struct HostCPU: Equatable {
    let model: String
    /// The vector-related flags this CPU has, in the order of `HostCPU.vectorFlags`.
    let features: [String]

    /// The flags worth recording: SIMD width, FMA, and the bf16/int8 matrix units.
    static let vectorFlags = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                              "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"]

    /// This machine's processor; model "unknown" and no features where /proc/cpuinfo is absent.
    static let current: HostCPU = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return HostCPU(model: "unknown", features: [])
        }
        return parse(cpuinfo: text)
    }()

    /// Reads the first processor's `model name` and `flags` lines.
    static func parse(cpuinfo: String) -> HostCPU {
        var model = "unknown", flags: Set<String> = []
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "model name", model == "unknown" { model = value }
            if key == "flags", flags.isEmpty { flags = Set(value.split(separator: " ").map(String.init)) }
        }
        return HostCPU(model: model, features: vectorFlags.filter(flags.contains))
    }

    /// "Intel(R) Xeon(R) Processor (avx2 fma avx512f ...)".
    var description: String { features.isEmpty ? model : "\(model) (\(features.joined(separator: " ")))" }
}
