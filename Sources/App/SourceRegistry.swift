import Foundation
import EventModel
import EmbeddedStore
import KafkaLog
import RabbitMQLog

/// A source opened by the registry, with what it can do. The app asks for a capability (nil: the source
/// cannot) and never casts to a concrete type.
public struct OpenedSource: Sendable {
    /// Reading: what every source has.
    public let reader: any LogReader
    /// Reading and writing (requeue, replay); nil when the source was opened read-only or cannot write.
    public let writable: (any WritableLog)?
    /// What the demo simulator runs on; nil when the source cannot host it.
    public let demo: (any DemoLog)?
    /// Where spans are looked up for sagas; nil when the source keeps none.
    public let traces: (any TraceStore)?
    /// Where the OTLP receiver may write spans; nil when the source cannot keep them or is read-only.
    public let spanStore: (any SpanStore)?
    /// What the demo simulator runs on when the source is a broker of exchanges and queues (RabbitMQ);
    /// nil for log sources and read-only.
    public var queueDemo: (any QueueDemoBroker)? = nil
    /// Redrive out of dead-letter queues consumed destructively (RabbitMQ); nil for log sources and read-only.
    public var queueMover: (any QueueMover)? = nil
    /// True when dead letters sit in queues consumed destructively (RabbitMQ), read-only or not: they are
    /// redriven by taking them (``queueMover``), never by producing to a log.
    public var lettersAreQueued = false
    /// Copies of messages as they are published, for sources whose queues are consumed destructively
    /// (RabbitMQ); nil when the source needs none (its log can be re-read) or was opened read-only.
    public var tap: (any EventTap)? = nil
    /// The exchanges to tap (the context's `tap:`, `--tap`); nil: every one the source can tap.
    public var tapExchanges: [String]? = nil
    /// Where a tapped source's sagas live (records, index, spans), read-only or not; nil for sources read directly.
    var tapFile: TapStoreFile? = nil
    /// Deletes the oldest records by a retention policy (the embedded store opened for writing); nil where the
    /// broker keeps its own retention or the source was opened read-only.
    public var recordRetention: (any RecordRetention)? = nil
    /// The recording's clock, for a source that is a recording (`file:`); nil for a live source.
    public var playback: (any Playback)? = nil
    /// Releases what the source holds when its user is done (the embedded store: checkpoint and close, so
    /// that no `-wal` content is left behind); nil when there is nothing to release.
    var closing: (@Sendable () async -> Void)? = nil

    /// Releases the source (see ``closing``); nothing may use it afterwards.
    public func close() async {
        await closing?()
    }

    /// The source as the user named it, without secrets.
    public var description: String { reader.sourceDescription }

    /// The moment the source shows: now, or a recording's clock. What ages and saga states are judged at.
    public var now: Date { playback?.clock ?? Date() }

    /// The snapshots `window` seconds of watching give, one every `interval`, each handed to `body` as it
    /// comes: polled from a live source (waiting between them), or from a recording those it holds for the
    /// `window` seconds up to its clock (no waiting: a recording does not change).
    func snapshots(over window: Double, interval: Double, _ body: (BrokerSnapshot) async throws -> Void) async throws {
        if let playback {
            // Twice the interval: recorded snapshots lie a little more than an interval apart, and a rate needs two.
            for snapshot in try playback.move(to: playback.clock, history: max(window, 2 * interval)).snapshots { try await body(snapshot) }
            return
        }
        let deadline = Date().addingTimeInterval(window)
        repeat {
            try await body(try await reader.snapshot())
            if Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        } while true
    }
}

/// How to open a source, besides its URL.
public struct SourceSettings: Sendable {
    /// Open for reading only: no writer, no span store.
    public var readOnly: Bool
    /// Create the store when missing (only the default store is created on demand: a mistyped path must
    /// not become an empty store).
    public var create: Bool
    /// Client properties (librdkafka's for Kafka: the context's, then `-X`). May hold secrets: never print them.
    public var properties: [String: String]
    /// Groups shown even when the broker cannot list groups (the context's `groups`, `--group`).
    public var groups: [String]
    /// The property that carries a RabbitMQ management API URL (`--management`, a context's `management:`).
    public static let managementKey = "management"
    /// The property that names the exchanges a RabbitMQ tap binds to, comma-separated (`--tap`, a context's `tap:`).
    public static let tapKey = "tap"

    /// `orders, payments` as exchange names (empty entries dropped).
    static func exchangeList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Creates settings.
    public init(readOnly: Bool, create: Bool = false, properties: [String: String] = [:], groups: [String] = []) {
        self.readOnly = readOnly
        self.create = create
        self.properties = properties
        self.groups = groups
    }
}

/// A source URL whose scheme names a registered backend, checked before anything is opened.
public struct SourceURL: Sendable, Equatable {
    /// The scheme that picked the backend (`sqlite`, `kafka`).
    public let scheme: String
    /// What follows the scheme, checked and normalised by the backend (a path, a server list).
    public let target: String

    /// The URL in its normal spelling.
    public var text: String { SourceRegistry.backend(scheme)?.spell(target) ?? scheme + ":" + target }

    /// What kind of source it names (`Kafka`, `embedded store`).
    public var kind: String { SourceRegistry.backend(scheme)?.kind ?? scheme }
}

/// One kind of source: a scheme, how its URLs are checked, and how it is opened. Adding a broker is one
/// target plus one entry in ``SourceRegistry/backends``.
struct SourceBackend: Sendable {
    /// URL schemes this backend answers to.
    let schemes: [String]
    /// What kind of source it is, for the contexts view (`Kafka`).
    let kind: String
    /// An example URL, for error messages.
    let example: String
    /// Checks what follows `scheme:` and returns it normalised; throws `BrokerError.badURL` with the reason.
    /// `url` is the URL as errors show it (credentials masked); a reason never quotes `rest` unchecked.
    let check: @Sendable (_ url: String, _ rest: String) throws -> String
    /// The normal spelling of a checked target.
    let spell: @Sendable (_ target: String) -> String
    /// What a bare path or address would be as this backend's URL, with what it is for.
    let suggest: @Sendable (_ bare: String) -> String
    /// Opens the source.
    let open: @Sendable (_ target: String, _ settings: SourceSettings) throws -> OpenedSource
}

/// The one table of source backends by URL scheme: the only place that knows concrete source types.
public enum SourceRegistry {
    static let backends: [SourceBackend] = [.embeddedStore, .recording, .kafka, .rabbitMQ]

    static func backend(_ scheme: String) -> SourceBackend? {
        backends.first { $0.schemes.contains(scheme) }
    }

    /// The URL forms every backend accepts, for help texts and errors.
    public static var examples: String { backends.map(\.example).joined(separator: " or ") }

    /// Parses `SCHEME:REST` with the backend the scheme names; a bare path or host gets a hint.
    /// Errors show the URL without its credentials or query values (``Secrets/url(_:)``).
    public static func parse(_ text: String) throws -> SourceURL {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let shown = Secrets.url(trimmed)
        // Without a scheme: a path or a host:port; say how each backend would spell it.
        let bare = { BrokerError.badURL(shown, reason: "no scheme: use " + backends.map { $0.suggest(shown) }.joined(separator: " or ")) }
        guard let colon = trimmed.firstIndex(of: ":"), !trimmed.hasPrefix("/"), !trimmed.hasPrefix("."), !trimmed.hasPrefix("~") else {
            throw bare()
        }
        let scheme = String(trimmed[..<colon]).lowercased()
        guard let backend = backend(scheme) else {
            if scheme.contains(".") || Int(trimmed[trimmed.index(after: colon)...]) != nil { throw bare() }
            throw BrokerError.badURL(shown, reason: "unknown scheme '\(scheme)' (use \(examples))")
        }
        return SourceURL(scheme: scheme, target: try backend.check(shown, String(trimmed[trimmed.index(after: colon)...])))
    }

    /// Opens the source a URL names.
    public static func open(_ url: SourceURL, settings: SourceSettings) throws -> OpenedSource {
        guard let backend = backend(url.scheme) else {
            throw BrokerError.badURL(url.text, reason: "unknown scheme '\(url.scheme)' (use \(examples))")
        }
        return try backend.open(url.target, settings)
    }

    /// The embedded store at `path`, as a URL.
    public static func embeddedStore(path: String) -> SourceURL { SourceURL(scheme: "sqlite", target: path) }
}

extension SourceBackend {
    /// The embedded store: `sqlite:PATH` or `sqlite://PATH`.
    static let embeddedStore = SourceBackend(
        schemes: ["sqlite"],
        kind: "embedded store",
        example: "sqlite:PATH",
        check: { url, rest in try localPath(url, rest, scheme: "sqlite", naming: "a store", example: "~/demo.db") },
        spell: { "sqlite:" + $0 },
        suggest: { "sqlite:\($0) for a store file" },
        open: { path, settings in
            guard settings.create || FileManager.default.fileExists(atPath: path) else {
                throw OperatorError("no evtop store at \(path) (start one with: evtop demo --store \(path))")
            }
            if settings.create && !settings.readOnly { try Paths.ensureParent(of: path) }
            // One rule for every command: a store is created only when asked (demo --store, collect --store,
            // the dashboard's default store) and only where no file exists; an existing file must be a store.
            let mode: SQLiteLog.OpenMode = settings.readOnly ? .readOnly : settings.create ? .readWrite : .readWriteExisting
            // An incident recording is played back, never written, whichever scheme named it.
            if SQLiteLog.isRecording(path: path) { return try SourceBackend.playback(path) }
            let store = try SQLiteLog(path: path, mode: mode)
            var opened = OpenedSource(reader: store, writable: settings.readOnly ? nil : store, demo: settings.readOnly ? nil : store,
                                      traces: store, spanStore: settings.readOnly ? nil : store)
            opened.recordRetention = settings.readOnly ? nil : store
            opened.closing = { store.close() }
            return opened
        })

    /// The path of a local file in `SCHEME:PATH` or `SCHEME://PATH`, expanded (`~`). A file is reached without
    /// a user or password: `sqlite://user:password@host/…` is refused before its credentials reach an error.
    private static func localPath(_ url: String, _ rest: String, scheme: String, naming what: String, example: String) throws -> String {
        var path = rest
        if path.hasPrefix("//") {
            path.removeFirst(2)
            if path.prefix(while: { $0 != "/" }).contains("@") {
                throw BrokerError.badURL(url, reason: "\(what) is a local file, reached without a user or password (example: \(scheme):\(example))")
            }
        }
        guard !path.isEmpty else {
            throw BrokerError.badURL(url, reason: "no file path after '\(scheme):' (example: \(scheme):\(example))")
        }
        return Paths.expand(path)
    }

    /// An incident recording (`evtop record`): `file:PATH`, always read-only, its clock moved by the operator.
    static let recording = SourceBackend(
        schemes: ["file"],
        kind: "recording",
        example: "file:PATH",
        check: { url, rest in try localPath(url, rest, scheme: "file", naming: "a recording", example: "incident.evtop") },
        spell: { "file:" + $0 },
        suggest: { "file:\($0) for a recording" },
        open: { path, _ in
            guard FileManager.default.fileExists(atPath: path) else {
                throw OperatorError("no recording at \(path) (make one with: evtop record --out \(path))")
            }
            return try playback(path)
        })

    /// A recording opened for playback: read-only whatever was asked, with its spans and its index.
    static func playback(_ path: String) throws -> OpenedSource {
        let playback = try RecordingPlayback(path: path)
        var opened = OpenedSource(reader: playback, writable: nil, demo: nil, traces: playback.store, spanStore: nil)
        opened.playback = playback
        opened.closing = { playback.store.close() }
        return opened
    }

    /// A Kafka cluster: `kafka://HOST:PORT[,HOST:PORT]`, read with assign() only (never a consumer group).
    static let kafka = SourceBackend(
        schemes: ["kafka"],
        kind: "Kafka",
        example: "kafka://HOST:PORT",
        check: { url, rest in
            guard rest.hasPrefix("//") else { throw BrokerError.badURL(url, reason: "use kafka://HOST:PORT[,HOST:PORT]") }
            // Credentials and properties go in -X or the context, where they are kept out of every screen and log.
            if rest.contains("@") {
                throw BrokerError.badURL(url, reason: "a Kafka URL takes no user or password: give them with -X (sasl.username, sasl.password) or in the context's properties")
            }
            if rest.contains("?") || rest.contains("#") {
                throw BrokerError.badURL(url, reason: "a Kafka URL takes no parameters: give librdkafka properties as -X key=value or in the context's properties")
            }
            let hosts = rest.dropFirst(2).split(separator: ",").map(String.init)
            guard !hosts.isEmpty else { throw BrokerError.badURL(url, reason: "no bootstrap servers after 'kafka://' (example: kafka://localhost:9092)") }
            for host in hosts {
                let parts = host.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
                    throw BrokerError.badURL(url, reason: "'\(host)' is not host:port")
                }
            }
            return hosts.joined(separator: ",")
        },
        spell: { "kafka://" + $0 },
        suggest: { "kafka://\($0) for Kafka" },
        open: { servers, settings in
            if settings.properties[SourceSettings.managementKey] != nil {
                throw OperatorError("--management (or a context's management:) is for amqp:// brokers, not Kafka")
            }
            if settings.properties[SourceSettings.tapKey] != nil {
                throw OperatorError("--tap (or a context's tap:) is for amqp:// brokers: a Kafka log is read again, not tapped")
            }
            // Read-only is evtop's promise (no requeue or replay), not a client setting: reads never commit.
            let log = try KafkaLog(settings: KafkaSettings(bootstrap: servers.split(separator: ",").map(String.init),
                                                           properties: settings.properties, groups: settings.groups))
            return OpenedSource(reader: log, writable: settings.readOnly ? nil : log, demo: settings.readOnly ? nil : log,
                                traces: nil, spanStore: nil)
        })

    /// A RabbitMQ virtual host: `amqp://USER:PASSWORD@HOST:5672/VHOST` or `amqps://…`, with the management API
    /// at `http://HOST:15672` unless `--management` (the `management` property) says otherwise.
    static let rabbitMQ = SourceBackend(
        schemes: ["amqp", "amqps"],
        kind: "RabbitMQ",
        example: "amqp://USER:PASSWORD@HOST:5672/VHOST",
        check: { url, rest in
            let scheme = url.lowercased().hasPrefix("amqps:") ? "amqps:" : "amqp:"
            guard rest.hasPrefix("//") else { throw BrokerError.badURL(url, reason: "use \(scheme)//USER:PASSWORD@HOST:PORT/VHOST") }
            _ = try RabbitMQSettings(url: scheme + rest)  // every mistake is reported now, before anything opens
            return scheme + rest
        },
        // The target keeps the credentials (opening needs them); its spelling, which is shown, does not.
        spell: { Secrets.url($0) },
        suggest: { "amqp://\($0)/ for RabbitMQ" },
        open: { url, settings in
            var properties = settings.properties
            let management = properties.removeValue(forKey: SourceSettings.managementKey)
            let tapExchanges = properties.removeValue(forKey: SourceSettings.tapKey).map(SourceSettings.exchangeList)
            let parsed = try RabbitMQSettings(url: url, management: management, knownQueues: settings.groups)
            Secrets.remember([parsed.password])
            // Its letters are redriven by taking them from the DLQ (QueueMover), never by producing to a log.
            let log = RabbitMQLog(settings: parsed, properties: properties)
            // Queues are consumed destructively: sagas come from a tap recorded into a local store, which
            // also keeps the spans the OTLP receiver gets for them. Read-only: no tap, the store read as it is.
            let tapFile = TapStoreFile(source: log, readOnly: settings.readOnly)
            var opened = OpenedSource(reader: log, writable: nil, demo: nil, traces: tapFile, spanStore: settings.readOnly ? nil : tapFile,
                                      queueDemo: settings.readOnly ? nil : RabbitMQDemoBroker(log: log),
                                      queueMover: settings.readOnly ? nil : log, lettersAreQueued: true)
            opened.tap = settings.readOnly ? nil : log
            opened.tapExchanges = tapExchanges
            opened.tapFile = tapFile
            return opened
        })
}
