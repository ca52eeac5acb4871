import ArgumentParser
import App
import EventModel

/// Where to read from: broker URL or a config context.
struct SourceOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Broker URL: sqlite:PATH (embedded store), kafka://HOST:PORT[,HOST:PORT], amqp://USER:PASSWORD@HOST:5672/VHOST (RabbitMQ) or file:PATH (a recording, read-only).", valueName: "url"))
    var broker: String?

    @Option(name: .long, help: ArgumentHelp("RabbitMQ management API (default http://HOST:15672 of the amqp:// broker).", valueName: "url"))
    var management: String?

    @Option(name: .long, help: "Context from the config file to use.")
    var context: String?

    @Option(name: .long, help: ArgumentHelp("Config file (default $XDG_CONFIG_HOME/evtop/config.yaml).", valueName: "path"))
    var config: String?

    @Option(name: .customShort("X"), help: ArgumentHelp("Client property key=value passed to librdkafka (repeatable).", valueName: "key=value"))
    var properties: [String] = []

    @Flag(name: .long, help: "Disable every write (requeue, replay).")
    var readOnly = false

    /// The selection for the app, with `groups` to show besides the context's.
    func selection(groups: [String] = []) -> SourceSelection {
        SourceSelection(broker: broker, context: context, config: config,
                        properties: properties + (management.map { ["\(SourceSettings.managementKey)=\($0)"] } ?? []),
                        readOnly: readOnly, groups: groups)
    }
}

/// The RabbitMQ sagas tap, for the commands that run it (the dashboard, `evtop collect`).
struct TapOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("RabbitMQ: exchanges the sagas tap binds to, comma-separated (default: every topic, fanout, headers and direct exchange).", valueName: "exchanges"))
    var tap: String?

    /// `selection` with the exchanges to tap, when named.
    func adding(to selection: SourceSelection) -> SourceSelection {
        var s = selection
        if let tap { s.properties.append("\(SourceSettings.tapKey)=\(tap)") }
        return s
    }
}

/// How the dashboard looks and how often it refreshes.
struct DisplayOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Theme name (see themes/) or path to a theme YAML file.", valueName: "name|path"))
    var theme: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between source polls.", valueName: "seconds"))
    var refresh: Double = 1

    func validate() throws {
        guard refresh >= 0.1, refresh <= 60 else { throw ValidationError("--refresh must be between 0.1 and 60 seconds") }
    }

    var settings: DisplaySettings { DisplaySettings(theme: theme, refresh: refresh) }
}

/// How long and how many spans the receiver keeps (`--span-retention`, `--span-max`).
struct SpanRetentionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keep spans this long, by start time: 90s, 30m, 24h, 7d, or off.", valueName: "age"))
    var spanRetention: String = "24h"

    @Option(name: .long, help: ArgumentHelp("Keep at most this many spans, oldest pruned first, or off.", valueName: "n"))
    var spanMax: String = "2000000"

    func validate() throws {
        _ = try Usage.check { try limits() }
    }

    func limits() throws -> SpanLimits {
        try SpanRetentionSetting.limits(retention: spanRetention, max: spanMax)
    }
}

/// How long and how many records a writer of the embedded store keeps (`--record-retention`, `--record-max`).
struct RecordRetentionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keep the store's records this long, by timestamp: 90s, 30m, 24h, 7d, or off.", valueName: "age"))
    var recordRetention: String = "7d"

    @Option(name: .long, help: ArgumentHelp("Keep at most this many records in each partition of the store, oldest deleted first, or off.", valueName: "n"))
    var recordMax: String = "200000"

    func validate() throws {
        _ = try Usage.check { try policy() }
    }

    func policy() throws -> RecordRetentionPolicy {
        try RecordRetentionSetting.policy(retention: recordRetention, max: recordMax)
    }
}

/// Turns the app's usage errors into ArgumentParser's, so they print with the command's usage.
enum Usage {
    static func check<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as UsageError { throw ValidationError(error.description) }
    }
}
