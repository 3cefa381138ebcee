/// Whether a stage's folder can be trusted for the current manifest.
enum StageState: Equatable, CustomStringConvertible {
    case fresh
    case stale(String)
    case neverRun

    var isFresh: Bool { self == .fresh }

    var description: String {
        switch self {
        case .fresh: return "fresh"
        case .stale(let why): return "stale (\(why))"
        case .neverRun: return "never run"
        }
    }
}
