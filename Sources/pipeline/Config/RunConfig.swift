import ABLNet
import CanonicalJSON
import Foundation
import PoisonForge
import Sanitizer

/// The manifest as typed values. It is decoded from the resolved manifest (every default
/// already filled in by `ManifestSchema`, the one place defaults are written), so no property
/// here has a default of its own and a stage reads `config.isolate.gamma`, never a JSON look-up.
struct RunConfig: Decodable, Sendable {
    let name: String
    let seed: UInt64
    /// The run folder when given; `Manifest.runFolder` applies the default.
    let output: String?
    let dataset: DatasetConfig
    let ingest: IngestConfig
    let attack: AttackConfig?
    let evaluation: EvaluationConfig?
    let surrogate: SurrogateConfig
    let model: ModelConfig
    let isolate: IsolateConfig
    let export: ExportConfig
    let unlearn: UnlearnConfig
    let baseline: BaselineConfig
    let report: ReportConfig

    /// Decodes a resolved manifest (Foundation's decoder; snake_case keys become camelCase).
    /// A failure means the schema and these types disagree; it names the JSON path.
    static func decode(_ resolved: JSON) throws -> RunConfig {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(RunConfig.self, from: Data(resolved.canonical.utf8))
        } catch let DecodingError.keyNotFound(key, c) {
            throw ManifestIssue(path: Self.path(c.codingPath + [key]), rule: "is missing from the resolved manifest")
        } catch let DecodingError.typeMismatch(_, c), let DecodingError.valueNotFound(_, c), let DecodingError.dataCorrupted(c) {
            throw ManifestIssue(path: Self.path(c.codingPath), rule: c.debugDescription)
        }
    }

    /// One section decoded the same way, nil when it does not decode.
    static func decodeSection<T: Decodable>(_ type: T.Type, _ section: JSON) -> T? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(type, from: Data(section.canonical.utf8))
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { k in k.intValue.map { "[\($0)]" } ?? k.stringValue.snakeCased }.joined(separator: ".")
    }
}

extension ManifestIssue: Error {}

extension String {
    /// `trainLimit` as `train_limit`, for paths of decoding errors.
    var snakeCased: String {
        var out = ""
        for c in self { if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } }
        return out
    }
}

struct IngestConfig: Decodable, Sendable {
    let preview: Int
    let previewFolder: String
}

struct ModelConfig: Decodable, Sendable {
    let architecture: Architecture
    let batchSize: Int
    let momentum: Double
    let nesterov: Bool
    let weightDecay: Double
    let inputChannels: Int?
    let threads: Int?
    /// The batch's decomposition when fixed by the manifest (docs/SCALING.md).
    let shards: Int?

    /// The optimiser every training stage uses.
    var optimiser: OptimiserSettings {
        var o = OptimiserSettings()
        o.batchSize = batchSize
        o.momentum = Float(momentum)
        o.nesterov = nesterov
        o.weightDecay = Float(weightDecay)
        return o
    }
}

struct SurrogateConfig: Decodable, Sendable {
    let architecture: Architecture
    let epochs: Int
    let lr: Double
    let lrDrop: Int
    let augment: Bool
    let trainLimit: Int?
    let checkpoint: String?
}

struct IsolateConfig: Decodable, Sendable {
    let epochs: Int
    let lr: Double
    let gamma: Double
    let granularity: LGAGranularity
    let shuffle: Bool
    let augment: Bool
    let ratio: Double
    let strategy: IsolationStrategy
    let targetStatistic: TargetStatistic
    let maxRatio: Double?
    let target: Int?
    let detection: Detection.Mode
    let whenClean: Detection.WhenClean
    let rankBy: IsolationRanking
    let falsePositiveRate: Double
    let minExcess: Double

    /// The decision rule of the detection verdict.
    var detectionRule: Detection.Rule { Detection.Rule(falsePositiveRate: falsePositiveRate, minExcess: minExcess) }
}

struct ExportConfig: Decodable, Sendable {
    let folder: String
    let png: Bool
}

struct UnlearnConfig: Decodable, Sendable {
    enum Mode: String, Decodable, Sendable, CaseIterable { case sequential, joint }
    enum ObjectiveKind: String, Decodable, Sendable, CaseIterable { case ascent, flatten, complement }

    let mode: Mode
    let finetuneEpochs: Int
    let finetuneLr: Double
    let finetuneLrDrop: Int
    let finetuneAugment: Bool
    let epochs: Int
    let lr: Double
    let augment: Bool
    let lambda: Double
    let objective: ObjectiveKind
    let ascentCap: Double?
    let freezeBn: Bool
    let stopIsolatedAccuracy: Double?
    /// The margin behind the isolation boundary left out of fine-tuning, as a fraction of the isolated count.
    let quarantine: Double

    /// The objective the isolated samples are unlearned with.
    var unlearning: Objective {
        switch objective {
        case .ascent: return .ascent(cap: ascentCap.map { Float($0) })
        case .flatten: return .flatten
        case .complement: return .complement
        }
    }
}

struct BaselineConfig: Decodable, Sendable {
    /// Whether the no-defense model is trained: as asked, or with an attack or evaluation section.
    func trainsNoDefense(_ c: RunConfig) -> Bool { noDefense ?? (c.attack != nil || c.evaluation != nil) }

    let epochs: Int
    let lr: Double
    let lrDrop: Int
    let augment: Bool
    let clean: Bool
    let noDefense: Bool?
}

struct ReportConfig: Decodable, Sendable {
    let title: String?
}

extension Architecture: Decodable {}
extension LGAGranularity: Decodable {}
extension IsolationStrategy: Decodable {}
extension TargetStatistic: Decodable {}
extension TargetMode: Decodable {}
extension RateBase: Decodable {}
extension SizePolicy: Decodable {}
extension CIFARReader.LabelKind: Decodable {}
extension BadNets.Corner: Decodable {}

/// The `evaluation` section (data the user brings): where the triggered test set comes from.
struct EvaluationConfig: Decodable, Sendable {
    enum Source: String, Decodable, Sendable, CaseIterable { case npy, attack }
    let source: Source
    /// `npy`: the triggered images, their target, and optionally their true labels.
    let triggeredImages: String?
    let target: Int?
    let trueLabels: String?
    /// `attack`: the catalogue attack whose trigger is stamped on the test set.
    let attack: AttackConfig?
}
