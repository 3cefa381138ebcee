/// The stages a manifest declares, upstream first. With an attack section: ingest, [surrogate],
/// poison, then ABL and the references on the poisoned set. Without one (data the user brings):
/// ingest, [trigger], then ABL on the dataset as given.
enum StageGraph {
    static func stages(for manifest: Manifest) -> [any Stage] {
        let c = manifest.config
        let origin = DataOrigin.of(manifest)
        let surrogate = c.attack?.descriptor.needsSurrogate ?? false
        let clean = c.baseline.clean && c.attack != nil
        let noDefense = c.baseline.trainsNoDefense(c)
        var s: [any Stage] = [IngestStage()]
        if surrogate { s.append(SurrogateStage()) }
        if c.attack != nil { s.append(PoisonStage(withSurrogate: surrogate)) } else if c.evaluation != nil { s.append(TriggerStage()) }
        s += [IsolateStage(origin: origin), ExportStage(origin: origin), UnlearnStage(origin: origin)] as [any Stage]
        if noDefense { s.append(BaselineStage(onClean: false, origin: origin)) }
        if clean { s.append(BaselineStage(onClean: true)) }
        s.append(ReportStage(withClean: clean, withSurrogate: surrogate, origin: origin, withNoDefense: noDefense))
        return s
    }
}
