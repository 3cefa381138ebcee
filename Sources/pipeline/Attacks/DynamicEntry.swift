import ABLNet
import PoisonForge

/// Dynamic's parameters: pattern and mask generators trained against the surrogate.
struct DynamicParameters: AttackParameters {
    static let descriptor = AttackDescriptor(
        kind: "dynamic", displayName: "Dynamic (input-aware)", labelKind: .dirty, needsSurrogate: true,
        doc: "Dynamic (input-aware): pattern and mask generators trained against the surrogate; every image gets its own trigger; dirty-label; surrogate",
        fields: [
            AttackFields.dirtyRate,
            .optional("density", .number, default: .number(0.032), "mask density the norm term allows", [.range(0, 1, openLo: true)]),
            .optional("lambda_diversity", .number, default: .number(1), "weight of the diversity term", [.range(0, 1e6)]),
            .optional("lambda_norm", .number, default: .number(100), "weight of the mask-density term", [.range(0, 1e6)]),
            AttackFields.steps(300), AttackFields.batch,
            .optional("generator_lr", .number, default: .number(0.01), "SGD learning rate of the generators", [.range(0, 10, openLo: true)]),
            .optional("hidden", .integer, default: .number(16), "channels of the generators' hidden layers", [.range(1, 256)]),
        ],
        parameters: DynamicParameters.self)

    let density: Double
    let lambdaDiversity: Double
    let lambdaNorm: Double
    let steps: Int
    let batch: Int
    let generatorLr: Double
    let hidden: Int

    func make(_ c: AttackCommon, _ s: AttackShape) throws -> any Attack {
        Dynamic(target: c.target, rate: c.rate, density: Float(density), lambdaDiversity: Float(lambdaDiversity), lambdaNorm: Float(lambdaNorm),
                steps: steps, batch: batch, lr: Float(generatorLr), hidden: hidden)
    }
}
