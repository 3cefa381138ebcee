/// An attack parameter that does not fit the data the attack is applied to, named in the
/// attack's own terms (the pipeline maps it to the manifest key).
public struct AttackParameterError: Error, CustomStringConvertible {
    public enum Parameter: String, Sendable, CaseIterable {
        case rate, patchSize = "patch size", patchFraction = "patch fraction", classA = "class A", classB = "class B"
        case generatorLR = "generator learning rate"
    }

    public let parameter: Parameter
    public let reason: String

    public init(_ parameter: Parameter, _ reason: String) {
        self.parameter = parameter
        self.reason = reason
    }

    public var description: String { "\(parameter.rawValue): \(reason)" }
}
