/// The stages a manifest declares, upstream first.
enum StageGraph {
    static func stages(for manifest: Manifest) -> [any Stage] {
        [IngestStage()]
    }
}
