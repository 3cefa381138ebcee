// swift-tools-version: 6.0
import PackageDescription

/// Numeric kernels must be fast even under `swift test` (debug): debug builds of
/// numeric Swift are 60-400x slower (../shared/docs/SWIFT-TOOLCHAIN.md §5).
let fastSwift: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "ABLToolkit",
    products: [
        .executable(name: "abl", targets: ["abl"]),
        .library(name: "ABLPipeline", targets: ["pipeline"]),
        .library(name: "CanonicalJSON", targets: ["CanonicalJSON"]),
        .library(name: "ABLNet", targets: ["ABLNet"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "PoisonForge", targets: ["PoisonForge"]),
        .library(name: "Sanitizer", targets: ["Sanitizer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries (module maps in each folder).
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // libjpeg reports errors through setjmp/longjmp, which Swift cannot call: a tiny C shim.
        .target(name: "CImageShim", dependencies: ["CJPEG"], cSettings: [.unsafeFlags(["-O2"])]),
        // Vector kernels for instruction sets chosen at run time (AVX-512): each function carries
        // its own target attribute, so the target as a whole assumes nothing beyond x86-64.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Open MPI, loaded with dlopen only when the process was started by mpirun or srun: a
        // single-machine run needs no MPI installed (docs/SCALING.md).
        .target(name: "CMPI", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("dl")]),

        // The JSON value with a strict parser and a canonical writer: manifests, records, cache
        // keys, safetensors headers.
        .target(name: "CanonicalJSON", swiftSettings: fastSwift),
        .target(name: "ABLNet", dependencies: ["COpenBLAS", "CCrypto", "CKernels", "CMPI", "CanonicalJSON"], swiftSettings: fastSwift),
        // The image dataset types (splits, poison bookkeeping) that the attacks and the defense share.
        .target(name: "Datasets", swiftSettings: fastSwift),
        .target(name: "PoisonForge",
                dependencies: ["ABLNet", "CanonicalJSON", "Datasets", "CPNG", "CJPEG", "CZlib", "CImageShim"],
                swiftSettings: fastSwift),
        .target(name: "Sanitizer", dependencies: ["ABLNet", "Datasets"], swiftSettings: fastSwift),
        // The `abl` command's work (manifests, stages, cache, reports) as a library, so the fuzz
        // targets and the tests reach it; `abl` itself is its entry point only.
        .target(name: "pipeline",
                dependencies: ["ABLNet", "CanonicalJSON", "Datasets", "PoisonForge", "Sanitizer",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: fastSwift,
                plugins: ["BuildInfo"]),
        // Compiled for plain x86-64: it refuses a CPU without AVX2 and FMA before any code built
        // for them runs.
        .executableTarget(name: "abl", dependencies: ["pipeline", "CKernels"]),
        // Writes the git commit into the `abl` command before each build (`abl --version`).
        .plugin(name: "BuildInfo", capability: .buildTool()),

        .testTarget(name: "ABLNetTests", dependencies: ["ABLNet", "CanonicalJSON"], swiftSettings: fastSwift),
        .testTarget(name: "PoisonForgeTests", dependencies: ["PoisonForge", "ABLNet", "CanonicalJSON"], swiftSettings: fastSwift),
        .testTarget(name: "SanitizerTests", dependencies: ["Sanitizer", "PoisonForge", "CanonicalJSON"], swiftSettings: fastSwift),
        .testTarget(name: "PipelineTests", dependencies: ["pipeline", "PoisonForge", "ABLNet", "CanonicalJSON"], swiftSettings: fastSwift),
    ]
)
