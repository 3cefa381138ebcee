/// The version of the `abl` command, printed by `abl --version` and recorded in report.json and
/// `abl bench`, so that a result or a bug report names the exact source that produced it.
enum ToolVersion {
    /// The release number; the commit below tells builds between releases apart.
    static let number = "0.1.0"

    /// The git commit the binary was built from (12 hex digits, or "unknown" outside a checkout).
    static var commit: String { BuildInfo.commit }

    /// Whether tracked files differed from that commit when the binary was built.
    static var modified: Bool { BuildInfo.dirty }

    /// "0.1.0 (commit 1a2b3c4d5e6f)", with "+ local changes" after the commit of a modified tree.
    static var description: String {
        "\(number) (commit \(commit)\(modified ? " + local changes" : ""))"
    }

    /// The compiler that built this binary.
    static var swift: String {
        #if compiler(>=6.4)
        return ">= 6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "< 6.2"
        #endif
    }
}
