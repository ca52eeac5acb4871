// swift-tools-version: 6.1
import PackageDescription

/// evtop's libFuzzer targets: a package of their own (like Benchmarks/) so that the main build and
/// its tests never compile them. One executable per target; each defines `LLVMFuzzerTestOneInput`
/// calling the same function the product calls on outside bytes. Built by `scripts/fuzz` with
/// `-c release -Xswiftc -sanitize=fuzzer`, which instruments every Swift module of the build (the
/// code under test in the parent package included) and links libFuzzer.
/// See docs/developing.md, "Fuzzing and soak".
let package = Package(
    name: "evtop-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        // The parent package: EvtopCore (EventModel, TerminalUI, OTLPReceiver) and EvtopApp (config loaders).
        .package(name: "evtop", path: ".."),
    ],
    targets: [
        /// Turns fuzzer bytes into records, lines and strings the same way for every target.
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", .product(name: "EvtopCore", package: "evtop")]),
        /// Starts libFuzzer's driver (LLVMFuzzerRunDriver) from a target's own entry point.
        .target(name: "CFuzzerDriver"),
        fuzzTarget("fuzz-otlp-protobuf"),
        fuzzTarget("fuzz-otlp-json"),
        fuzzTarget("fuzz-dead-letter"),
        fuzzTarget("fuzz-correlation"),
        fuzzTarget("fuzz-theme"),
        fuzzTarget("fuzz-config", app: true),
        fuzzTarget("fuzz-saga-definition", app: true),
    ],
    swiftLanguageModes: [.v6]
)

/// An executable whose `main.swift` defines `LLVMFuzzerTestOneInput` and hands it to libFuzzer's driver
/// (`runFuzzer`): SwiftPM points `main` at the target's own entry point, not at libFuzzer's.
func fuzzTarget(_ name: String, app: Bool = false) -> Target {
    var deps: [Target.Dependency] = ["FuzzSupport", .product(name: "EvtopCore", package: "evtop")]
    if app { deps.append(.product(name: "EvtopApp", package: "evtop")) }
    return .executableTarget(
        name: name,
        dependencies: deps
    )
}
