// swift-tools-version: 6.0
import PackageDescription

/// libFuzzer targets, one per parser, kept out of the main package so that its `swift build` and
/// `swift test` are unaffected. Built by `scripts/fuzz.sh` with
/// `-Xswiftc -sanitize=fuzzer,address`: each target's main hands its `LLVMFuzzerTestOneInput`
/// to libFuzzer's driver.
let package = Package(
    name: "ABLFuzz",
    dependencies: [.package(name: "ABLToolkit", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Targets/Support"),
        .target(name: "FuzzDriver", path: "Targets/Driver"),
        .executableTarget(name: "fuzz-idx", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "PoisonForge", package: "ABLToolkit")], path: "Targets/idx"),
        .executableTarget(name: "fuzz-cifar", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "PoisonForge", package: "ABLToolkit")], path: "Targets/cifar"),
        .executableTarget(name: "fuzz-png", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "PoisonForge", package: "ABLToolkit")], path: "Targets/png"),
        .executableTarget(name: "fuzz-jpeg", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "PoisonForge", package: "ABLToolkit")], path: "Targets/jpeg"),
        .executableTarget(name: "fuzz-npy", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "PoisonForge", package: "ABLToolkit")], path: "Targets/npy"),
        .executableTarget(name: "fuzz-safetensors", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "ABLNet", package: "ABLToolkit")], path: "Targets/safetensors"),
        .executableTarget(name: "fuzz-manifest", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "ABLPipeline", package: "ABLToolkit")], path: "Targets/manifest"),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "CanonicalJSON", package: "ABLToolkit")], path: "Targets/json"),
    ]
)
