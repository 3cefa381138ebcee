/// The stages a manifest declares, upstream first. Without an `attack` section the run is only
/// the ingest stage.
enum StageGraph {
    static func stages(for manifest: Manifest) -> [any Stage] {
        guard let attack = manifest.config.attack else { return [IngestStage()] }
        let clean = manifest.config.baseline.clean
        let surrogate = attack.descriptor.needsSurrogate
        var s: [any Stage] = [IngestStage()]
        if surrogate { s.append(SurrogateStage()) }
        s += [PoisonStage(withSurrogate: surrogate), IsolateStage(), ExportStage(), UnlearnStage(), BaselineStage(onClean: false)]
        if clean { s.append(BaselineStage(onClean: true)) }
        s.append(ReportStage(withClean: clean, withSurrogate: surrogate))
        return s
    }
}
