import CanonicalJSON

/// A manifest read as `abl run` reads it, with nothing run or written: parsed, validated and
/// resolved, then laid out as the run's stages with their cache parameters, inputs and outputs.
/// The entry point of the manifest fuzz target.
public enum ManifestCheck {
    /// The problems `abl validate` would print for `bytes` (read from `file`), or nil when the
    /// manifest is valid.
    public static func problems(in bytes: [UInt8], file: String) -> String? {
        let json: JSON
        do { json = try JSON.parse(bytes: bytes) } catch { return "\(file): invalid JSON: \(error)" }
        do {
            let manifest = try Manifest.resolve(json, file: file)
            for stage in StageGraph.stages(for: manifest) {
                _ = stage.parameters(manifest).canonical
                _ = stage.externalInputs(manifest)
                _ = stage.declaredOutputs(manifest)
            }
            return nil
        } catch {
            return "\(error)"
        }
    }
}
