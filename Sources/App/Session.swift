import Foundation
import EventModel
import Dashboard
import EmbeddedStore
import Redrive
import TerminalUI

/// Where to read from, as the command line and config say: a broker URL or a config context.
public struct SourceSelection: Sendable {
    /// `--broker URL`.
    public var broker: String?
    /// `--context NAME`.
    public var context: String?
    /// `--config PATH`.
    public var config: String?
    /// `-X key=value` client properties, as typed.
    public var properties: [String]
    /// `--read-only`: disable every write.
    public var readOnly: Bool
    /// Groups to show besides the context's (`--group`).
    public var groups: [String]

    /// Creates a selection.
    public init(broker: String? = nil, context: String? = nil, config: String? = nil, properties: [String] = [],
                readOnly: Bool = false, groups: [String] = []) {
        self.broker = broker
        self.context = context
        self.config = config
        self.properties = properties
        self.readOnly = readOnly
        self.groups = groups
    }

    /// The config file, if any (errors name file and line).
    func loadConfig() throws -> ConfigFile? {
        try ConfigParser.load(path: config.map(Paths.expand) ?? Paths.configFile)
    }

    /// `-X` properties as a dictionary; a property without `=` is a usage error.
    static func properties(_ list: [String]) throws -> [String: String] {
        var props: [String: String] = [:]
        for p in list {
            // Not echoed: `-X sasl.password:hunter2` is a secret with a typo in it.
            guard let eq = p.firstIndex(of: "=") else { throw UsageError("-X takes key=value; one -X has no '=' (not shown: it may hold a secret)") }
            props[String(p[..<eq]).trimmingCharacters(in: .whitespaces)] = String(p[p.index(after: eq)...])
        }
        return props
    }

    /// The URL to use and where it came from: --broker, else the context's, else the default store.
    public func resolve() throws -> ResolvedSource {
        let config = try loadConfig()
        var ctx: ContextConfig?
        if let config {
            ctx = try config.context(named: context)
        } else if let name = context {
            throw ConfigError(file: self.config ?? Paths.configFile, line: nil, problem: "no context named '\(name)': the config file does not exist")
        }
        // The context's properties, then -X, which win.
        let props = (ctx?.properties ?? [:]).merging(try Self.properties(properties)) { _, new in new }
        // Nothing is created here: only the dashboard creates the default store (see `open(create:)`).
        let settings = SourceSettings(readOnly: readOnly, create: false, properties: props, groups: (ctx?.groups ?? []) + groups)
        if let broker { return ResolvedSource(url: try SourceRegistry.parse(broker), context: ctx, config: config, isDefault: false, settings: settings) }
        if let b = ctx?.broker { return ResolvedSource(url: try SourceRegistry.parse(b), context: ctx, config: config, isDefault: false, settings: settings) }
        return ResolvedSource(url: SourceRegistry.embeddedStore(path: Paths.defaultStore), context: ctx, config: config,
                              isDefault: true, settings: settings)
    }
}

/// A selection resolved: the URL, its context and config, and how to open it.
public struct ResolvedSource: Sendable {
    /// The source URL.
    public var url: SourceURL
    /// The config context it came from, if any.
    var context: ContextConfig?
    /// The config file, if any.
    var config: ConfigFile?
    /// True when nothing named a source and the default store is used.
    public var isDefault: Bool
    /// How to open it (read-only, create, client properties, groups).
    public var settings: SourceSettings

    /// Opens the source; `readOnly` overrides the selection's (commands that only read open read-only).
    /// `create` makes a missing store: only the dashboard asks for it, and only for the default store, so
    /// that a mistyped path never becomes an empty store and a command never writes one by reading.
    public func open(readOnly: Bool? = nil, create: Bool = false) throws -> OpenedSource {
        var settings = self.settings
        if let readOnly { settings.readOnly = readOnly }
        settings.create = create
        return try SourceRegistry.open(url, settings: settings)
    }

    /// Opens the source for the dashboard, which reads first: a store this process cannot write (its
    /// permissions, its folder, a read-only file system) opens read-only instead of being refused, and
    /// `readOnlyBecause` says why (the dashboard shows it). Without `--read-only` otherwise as ``open(readOnly:create:)``.
    public func openForDashboard(create: Bool) throws -> (source: OpenedSource, readOnlyBecause: String?) {
        do {
            return (try open(create: create), nil)
        } catch let error as StoreError {
            guard case .notWritable(let path, let reason) = error, !settings.readOnly else { throw error }
            return (try open(readOnly: true, create: false), "'\(path)' is read-only: \(reason)")
        }
    }

    /// A dashboard state for this source: the context's DLQ patterns and the local UTC offset.
    func initialState(source: String, size: Size, readOnly: Bool, theme: String) -> AppState {
        AppState.initial(source: source, context: context, size: size, readOnly: readOnly, theme: theme)
    }

    /// The saga assembler: the context's correlation rules and saga definitions, merged with the built-in ones.
    func sagaAssembler() throws -> SagaAssembler {
        try SagaSetup.assembler(context: context, configPath: config?.path)
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

/// An error for the operator: one line on stderr, exit non-zero. Not a usage error.
public struct OperatorError: Error, CustomStringConvertible {
    /// The line shown.
    public var description: String
    /// Creates the error.
    public init(_ text: String) { description = text }
}

/// A mistake in how a command was called: the executable shows it with the command's usage.
public struct UsageError: Error, CustomStringConvertible {
    /// The line shown.
    public var description: String
    /// Creates the error.
    public init(_ text: String) { description = text }
}

/// A command's outcome as an exit status other than 0 (its output is already printed).
public struct ExitStatus: Error, Equatable {
    /// The process exit status.
    public var code: Int32
    /// Creates the status.
    public init(_ code: Int32) { self.code = code }
}

/// The dashboard was asked to stop by a signal; the executable re-raises it once everything is cleaned up.
public struct TerminatedBySignal: Error {
    /// The signal number.
    public var signal: Int32
}

/// Keeps untrusted text from steering the terminal in plain (non-ncurses) output.
public enum TerminalSafe {
    /// JSON with the characters JSONEncoder leaves raw but terminals act on (DEL, C1 controls
    /// such as CSI U+009B, bidi overrides) written as `\uXXXX` escapes; still the same JSON value.
    public static func json(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x7F || (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                || v == 0x2028 || v == 0x2029 {
                out.append(contentsOf: String(format: "\\u%04x", v).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// An error's text with control characters escaped and secrets masked (a library's text may quote
    /// a URL with its password, or a property's value: see ``Secrets/scrub(_:values:)``).
    public static func text(_ error: Error) -> String { TextWidth.sanitized(Secrets.scrub(String(describing: error))) }
}

/// The user name for the audit trail.
enum Operator {
    static var name: String {
        if let user = Paths.nonEmpty(Paths.environment["USER"]) ?? Paths.nonEmpty(Paths.environment["LOGNAME"]) { return user }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}

/// Where a source's local files live, from its identity: the redrive journal in the state folder, named
/// after the source's stable identity (a Kafka cluster's id, a store's id).
enum SourceFiles {
    /// The default redrive journal of `reader`; throws when the source cannot say who it is yet.
    static func journalPath(of reader: any LogReader) async throws -> String {
        guard let identity = await reader.identity() else {
            // Never guess: a journal of another cluster would mark its letters as already requeued.
            throw OperatorError("cannot tell which source \(reader.sourceDescription) is: it did not say its identity (is it reachable?). "
                                + "The redrive journal is named after it; --journal PATH names one yourself")
        }
        return try journalPath(of: identity)
    }

    /// `$XDG_STATE_HOME/evtop/redrive/STEM.journal`, named after the source's identity (a cluster's id, a
    /// store's id), never after the path or servers it was reached by. On first use it is made from the
    /// journals older evtops kept beside a store (`STORE.redrive`), so what they redrove stays redriven.
    /// A store with no id yet (an older store opened read-only) can only have such a former journal.
    static func journalPath(of identity: SourceIdentity) throws -> String {
        if identity.isProvisional {
            let fm = FileManager.default
            return identity.formerJournals.first(where: { fm.fileExists(atPath: $0) }) ?? identity.formerJournals.first
                ?? Paths.stateDirectory + "/redrive/" + identity.stem + ".journal"
        }
        let path = Paths.stateDirectory + "/redrive/" + identity.stem + ".journal"
        do {
            try RedriveJournal.adopt(formers: identity.formerJournals, into: path)
        } catch {
            throw OperatorError("cannot take in the redrive journal an older evtop kept beside the store: \(error)")
        }
        return path
    }

    /// The store a tapped source's sagas are recorded into (RabbitMQ): `$XDG_STATE_HOME/evtop/tap/STEM.db`.
    static func tapPath(of identity: SourceIdentity) -> String {
        Paths.stateDirectory + "/tap/" + identity.stem + ".db"
    }

    /// The local correlation index of a source that is not a store file: `$XDG_STATE_HOME/evtop/index/STEM.sqlite`.
    static func indexPath(of identity: SourceIdentity) -> String {
        Paths.stateDirectory + "/index/" + identity.stem + ".sqlite"
    }
}
