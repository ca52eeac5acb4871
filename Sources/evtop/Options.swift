import Foundation
import ArgumentParser
import EventModel
import TerminalUI
import Dashboard

/// Where to read from: broker URL or a config context.
struct SourceOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Broker URL: sqlite:PATH (embedded store) or kafka://HOST:PORT[,HOST:PORT].", valueName: "url"))
    var broker: String?

    @Option(name: .long, help: "Context from the config file to use.")
    var context: String?

    @Option(name: .long, help: ArgumentHelp("Config file (default $XDG_CONFIG_HOME/evtop/config.yaml).", valueName: "path"))
    var config: String?

    @Option(name: .customShort("X"), help: ArgumentHelp("Client property key=value passed to librdkafka (repeatable).", valueName: "key=value"))
    var properties: [String] = []

    @Flag(name: .long, help: "Disable every write (requeue, replay).")
    var readOnly = false

    /// The config file, if any (errors name file and line).
    func loadConfig() throws -> ConfigFile? {
        try ConfigParser.load(path: config.map(Paths.expand) ?? Paths.configFile)
    }

    /// librdkafka properties (the context's, then -X, which win) and the context's groups, plus `groups`.
    func kafkaOptions(_ context: ContextConfig?, groups: [String] = []) -> KafkaOptions {
        var props = context?.properties ?? [:]
        for p in properties {
            guard let eq = p.firstIndex(of: "=") else { continue }
            props[String(p[..<eq]).trimmingCharacters(in: .whitespaces)] = String(p[p.index(after: eq)...])
        }
        return KafkaOptions(properties: props, groups: (context?.groups ?? []) + groups)
    }

    /// The broker URL to use and the context it came from: --broker, else the context's, else the default store.
    func resolve() throws -> (url: BrokerURL, raw: String, context: ContextConfig?, config: ConfigFile?, isDefault: Bool) {
        let config = try loadConfig()
        var ctx: ContextConfig?
        if let config {
            ctx = try config.context(named: context)
        } else if let name = context {
            throw ConfigError(file: self.config ?? Paths.configFile, line: nil, problem: "no context named '\(name)': the config file does not exist")
        }
        for p in properties where !p.contains("=") {
            throw ValidationError("-X takes key=value, got '\(p)'")
        }
        if let broker { return (try BrokerURL.parse(broker), broker, ctx, config, false) }
        if let b = ctx?.broker { return (try BrokerURL.parse(b), b, ctx, config, false) }
        let path = Paths.defaultStore
        return (.sqlite(path: path), "sqlite:" + path, ctx, config, true)
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

    /// True when NO_COLOR is set to anything non-empty (no-color.org).
    var noColor: Bool { Paths.nonEmpty(Paths.environment["NO_COLOR"]) != nil }

    /// The theme to start with: --theme, else the config's, else default.
    func loadTheme(config: ConfigFile?) throws -> Theme {
        try ThemeCatalog.load(theme ?? config?.theme ?? "default")
    }
}

extension AppState {
    /// A state for `source` with the context's DLQ patterns and the local UTC offset.
    static func initial(source: String, context: ContextConfig?, size: Size, readOnly: Bool, theme: String) -> AppState {
        var state = AppState(source: source, now: Date(), size: size)
        state.utcOffsetSeconds = TimeZone.current.secondsFromGMT()
        if let patterns = context?.deadLetterPatterns { state.deadLetterTopics = DeadLetterTopics(patterns: patterns) }
        state.readOnly = readOnly
        state.themeName = theme
        return state
    }
}
