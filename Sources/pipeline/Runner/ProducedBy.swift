import ABLNet

/// What computed a stage's outputs: the `abl` binary (release and commit) and the machine's CPU
/// with the OpenBLAS core that ran. Recorded in `stage.json`; a cached stage keeps the record of
/// the run that computed it.
struct ProducedBy: Codable, Equatable, Sendable {
    /// `abl --version` without the name: "0.1.0 (commit 1a2b3c4d5e6f)".
    var abl: String
    /// The CPU's brand string.
    var cpu: String
    var cpuFeatures: [String]
    var openblasCore: String

    enum CodingKeys: String, CodingKey {
        case abl, cpu, cpuFeatures = "cpu_features", openblasCore = "openblas_core"
    }

    static var current: ProducedBy {
        ProducedBy(abl: ToolVersion.description, cpu: CPUFeatures.model, cpuFeatures: CPUFeatures.names, openblasCore: BLAS.coreName)
    }
}
