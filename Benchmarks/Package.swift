// swift-tools-version: 6.1
import PackageDescription

/// evtop's benchmarks: a package of their own so that the main build and its tests never
/// compile them (docs/benchmarks.md). Figures, not assertions.
///
///     swift run --package-path Benchmarks -c release evtop-bench          # plain figures (scripts/bench)
///     swift package --package-path Benchmarks benchmark                   # ordo-one/benchmark plugin
let package = Package(
    name: "evtop-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // The parent package; it must export the `EvtopCore` library product.
        .package(name: "evtop", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        /// Workloads shared by both runners: fixture snapshots, states and store records.
        .target(
            name: "EvtopBenchSupport",
            dependencies: [.product(name: "EvtopCore", package: "evtop")]
        ),
        /// Plain runner: ContinuousClock, median and p95, one line per figure.
        .executableTarget(
            name: "evtop-bench",
            dependencies: ["EvtopBenchSupport", .product(name: "EvtopCore", package: "evtop")]
        ),
        /// Kafka: evtop's consume + decode + correlation-index path against kcat on librdkafka's mock cluster.
        .executableTarget(
            name: "evtop-kafka-bench",
            dependencies: [.product(name: "EvtopKafka", package: "evtop"), .product(name: "EvtopCore", package: "evtop")]
        ),
        /// The same workloads under ordo-one/benchmark (`swift package benchmark`).
        .executableTarget(
            name: "EvtopBenchmarks",
            dependencies: [
                "EvtopBenchSupport",
                .product(name: "EvtopCore", package: "evtop"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/EvtopBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
