import Foundation
import EventModel
import Dashboard

/// The config's contexts for the dashboard: what the contexts view lists, and how `:ctx NAME` opens one.
/// `--read-only` and `--theme` stay in force across switches; `-X`, `--group` and `--broker` belong to
/// the source the dashboard started with.
struct ContextCatalog: Sendable {
    /// The config file, if there is one.
    var config: ConfigFile?
    /// Where the config file is, or would be.
    var configPath: String
    /// `--read-only`: every source opened read-only.
    var readOnly: Bool
    /// `--theme`: wins over every context's theme.
    var themeOverride: String?

    /// The catalog of `selection`'s config (already loaded as `config`).
    init(selection: SourceSelection, config: ConfigFile?, themeOverride: String?) {
        self.config = config
        self.configPath = config?.path ?? selection.config.map(Paths.expand) ?? Paths.configFile
        self.readOnly = selection.readOnly
        self.themeOverride = themeOverride
    }

    /// The context the dashboard started in: the resolved one, unless `--broker` named another source.
    static func startingContext(_ selection: SourceSelection, _ resolved: ResolvedSource) -> String? {
        selection.broker == nil ? resolved.context?.name : nil
    }

    /// What the contexts view shows, with `current` marked.
    func state(current: String?) -> ContextsState {
        ContextsState(entries: (config?.contexts ?? []).map(Self.entry), configFile: Self.shown(path: configPath),
                      configExists: config != nil, current: current)
    }

    /// A context as the view lists it: its broker without secrets, its kind, its settings in short.
    static func entry(_ context: ContextConfig) -> ContextEntry {
        // Client properties apart from the two RabbitMQ settings kept among them (`management:`, `tap:`).
        var properties = context.properties
        let management = properties.removeValue(forKey: SourceSettings.managementKey)
        let tap = properties.removeValue(forKey: SourceSettings.tapKey)

        // In short, for the table. Of properties only how many: a value may be a secret under any name.
        var settings: [String] = []
        func count(_ n: Int, _ noun: String, _ plural: String? = nil) {
            if n > 0 { settings.append("\(n) \(n == 1 ? noun : plural ?? noun + "s")") }
        }
        count(properties.count, "property", "properties")
        if management != nil { settings.append("management API") }
        if tap != nil { settings.append("tap") }
        count(context.deadLetterPatterns?.count ?? 0, "DLQ pattern")
        if context.correlationHeaders != nil || context.correlationPointers != nil { settings.append("correlation rules") }
        count(context.sagaFiles.count, "saga file")
        count(context.groups.count, "group")
        if let theme = context.theme { settings.append("theme " + theme) }
        let summary = settings.joined(separator: " · ")

        // In full, for the highlighted context: property names, never their values.
        var details: [ContextDetail] = []
        func detail(_ label: String, _ values: [String]?) {
            if let values, !values.isEmpty { details.append(ContextDetail(label, values.joined(separator: ", "))) }
        }
        detail("properties", properties.keys.sorted())
        detail("management", management.map { [Secrets.url($0)] })
        detail("tap", tap.map { [$0] })
        detail("DLQ patterns", context.deadLetterPatterns)
        detail("correlation headers", context.correlationHeaders)
        detail("correlation pointers", context.correlationPointers)
        detail("saga definitions", context.sagaFiles)
        detail("groups", context.groups)
        detail("theme", context.theme.map { [$0] })
        guard let broker = context.broker else {
            return ContextEntry(name: context.name, broker: "the default store", kind: SourceRegistry.embeddedStore(path: "").kind,
                                settings: summary, details: details)
        }
        let shown = Secrets.url(broker)
        do {
            return ContextEntry(name: context.name, broker: shown, kind: try SourceRegistry.parse(broker).kind, settings: summary,
                                details: details)
        } catch {
            return ContextEntry(name: context.name, broker: shown, kind: "bad URL", settings: summary, problem: TerminalSafe.text(error),
                                details: details)
        }
    }

    /// The source of context `name`, with its settings (and `--read-only`); throws for a name the config
    /// does not have or a broker URL that does not parse.
    func resolve(_ name: String) throws -> ResolvedSource {
        guard let config, let context = try config.context(named: name) else {
            throw OperatorError("no context named '\(name)': \(config == nil ? "no config file" : "the config defines none")")
        }
        let settings = SourceSettings(readOnly: readOnly, create: false, properties: context.properties, groups: context.groups)
        if let broker = context.broker {
            return ResolvedSource(url: try SourceRegistry.parse(broker), context: context, config: config, isDefault: false, settings: settings)
        }
        return ResolvedSource(url: SourceRegistry.embeddedStore(path: Paths.defaultStore), context: context, config: config,
                              isDefault: true, settings: settings)
    }

    /// The theme a switch from `old` to `new` loads; nil keeps the one showing. `--theme` always wins; a
    /// context's own theme comes with it, and leaving a context that had one goes back to the file's.
    func theme(switchingFrom old: ContextConfig?, to new: ContextConfig?) -> String? {
        guard themeOverride == nil else { return nil }
        if let theme = new?.theme { return theme }
        return old?.theme != nil ? config?.theme ?? "default" : nil
    }

    /// `path` with the home folder as `~`.
    static func shown(path: String) -> String {
        let home = Paths.home
        guard !home.isEmpty, home != "/", path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }
}
