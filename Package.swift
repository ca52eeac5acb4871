// swift-tools-version:6.0
import PackageDescription

/// evtop: a terminal dashboard for event-driven systems.
/// Folder = target = responsibility: the executable parses arguments and calls App; App opens sources
/// through one registry and runs the views of Dashboard; see docs/developing.md.
let package = Package(
    name: "evtop",
    platforms: [.macOS(.v13)],
    products: [
        /// KafkaLog (a BrokerLog over librdkafka) and its mock-cluster harness, for the benchmarks package.
        .library(name: "EvtopKafka", targets: ["KafkaLog"]),
        .executable(name: "evtop", targets: ["evtop"]),
        .library(name: "EvtopCore", targets: ["EventModel", "TerminalUI", "Dashboard", "EmbeddedStore", "Redrive", "OTLPReceiver"]),
        /// App (config and saga-definition loaders), for the fuzz package (Fuzz/).
        .library(name: "EvtopApp", targets: ["App"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(
            name: "EventModel",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "SQLiteSupport",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "EmbeddedStore",
            dependencies: ["EventModel", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Redrive",
            dependencies: ["EventModel", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "TerminalUI",
            dependencies: ["Yams"]
        ),
        .systemLibrary(
            name: "CNCurses",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        .target(
            name: "NCursesTerminal",
            dependencies: ["CNCurses", "TerminalUI"]
        ),
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "KafkaLog",
            dependencies: ["CRdKafka", "EventModel", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "CRabbitMQ",
            linkerSettings: [.linkedLibrary("rabbitmq")]
        ),
        .target(
            name: "RabbitMQLog",
            dependencies: ["CRabbitMQ", "EventModel"]
        ),
        .executableTarget(
            name: "evtop-mock-cluster",
            dependencies: ["KafkaLog"]
        ),
        .target(
            name: "Dashboard",
            dependencies: ["TerminalUI", "EventModel"]
        ),
        .target(
            name: "Simulator",
            dependencies: ["EventModel"]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "OTLPReceiver",
            dependencies: [
                "EventModel", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "App",
            dependencies: [
                "Dashboard", "TerminalUI", "NCursesTerminal", "EmbeddedStore", "EventModel", "Simulator",
                "Redrive", "OTLPReceiver", "Yams", "KafkaLog", "RabbitMQLog",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "evtop",
            dependencies: [
                "App", "Dashboard", "EventModel", "TerminalUI", "Simulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EventModelTests", dependencies: ["EventModel"]),
        .testTarget(name: "AppTests", dependencies: ["App", "Dashboard", "TerminalUI", "EventModel", "EmbeddedStore", "Simulator", "Redrive",
                                                  .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EmbeddedStoreTests", dependencies: ["EmbeddedStore", "EventModel", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RedriveTests", dependencies: ["Redrive", "EmbeddedStore", "EventModel", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "NCursesTerminalTests", dependencies: ["NCursesTerminal", "TerminalUI"]),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Dashboard", "TerminalUI", "EventModel"],
            exclude: ["Golden"]
        ),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "EventModel", "EmbeddedStore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["EmbeddedStore", "EventModel", "Redrive", "RabbitMQLog"]),
        .testTarget(name: "KafkaLogTests", dependencies: ["KafkaLog", "EventModel", "CRdKafka", "Redrive", "EmbeddedStore"]),
        .testTarget(name: "RabbitMQLogTests", dependencies: ["RabbitMQLog", "EventModel"]),
        .testTarget(name: "OTLPReceiverTests", dependencies: ["OTLPReceiver", "EmbeddedStore", "EventModel"]),
    ],
    swiftLanguageModes: [.v6]
)
