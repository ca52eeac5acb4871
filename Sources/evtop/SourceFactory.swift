import Foundation
import EventModel
import EmbeddedStore
import KafkaLog

/// A broker URL, checked before anything is opened.
enum BrokerURL: Equatable {
    /// The embedded store at a file path.
    case sqlite(path: String)
    /// Kafka bootstrap servers.
    case kafka(bootstrap: [String])

    /// Parses `sqlite:PATH`, `sqlite://PATH`, or `kafka://h1:9092,h2:9092`.
    static func parse(_ text: String) throws -> BrokerURL {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw BrokerError.badURL(text, reason: "no file path after 'sqlite:' (example: sqlite:~/demo.db)")
            }
            return .sqlite(path: Paths.expand(path))
        }
        if trimmed.hasPrefix("kafka://") {
            let hosts = trimmed.dropFirst("kafka://".count).split(separator: ",").map(String.init)
            guard !hosts.isEmpty else { throw BrokerError.badURL(text, reason: "no bootstrap servers after 'kafka://' (example: kafka://localhost:9092)") }
            for host in hosts {
                let parts = host.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
                    throw BrokerError.badURL(text, reason: "'\(host)' is not host:port")
                }
            }
            return .kafka(bootstrap: hosts)
        }
        if !trimmed.contains(":") || trimmed.hasPrefix("/") || trimmed.hasPrefix(".") || trimmed.hasPrefix("~") {
            throw BrokerError.badURL(text, reason: "no scheme: use sqlite:\(trimmed) for a store file or kafka://\(trimmed) for Kafka")
        }
        let scheme = trimmed.split(separator: ":").first.map(String.init) ?? trimmed
        throw BrokerError.badURL(text, reason: "unknown scheme '\(scheme)' (use sqlite:PATH or kafka://HOST:PORT)")
    }
}

/// What a Kafka source needs besides its URL: librdkafka properties and the groups to show.
struct KafkaOptions {
    /// librdkafka properties: the context's, then `-X` (which win). May hold secrets: never print them.
    var properties: [String: String] = [:]
    /// Groups shown when the cluster cannot list groups (the context's `groups`, `--group`).
    var groups: [String] = []
}

/// Opens the `BrokerLog` a URL names.
enum SourceFactory {
    static func open(_ url: BrokerURL, readOnly: Bool, create: Bool, kafka: KafkaOptions = KafkaOptions()) throws -> any BrokerLog {
        switch url {
        case .sqlite(let path):
            // Only the default store is created on demand: a mistyped path must not become an empty store.
            guard create || FileManager.default.fileExists(atPath: path) else {
                throw OperatorError("no evtop store at \(path) (start one with: evtop demo --store \(path))")
            }
            if create && !readOnly { try Paths.ensureParent(of: path) }
            return try SQLiteLog(path: path, mode: readOnly ? .readOnly : .readWrite)
        case .kafka(let bootstrap):
            // Read-only is evtop's promise (no requeue or replay), not a client setting: reads never commit.
            return try KafkaLog(settings: KafkaSettings(bootstrap: bootstrap, properties: kafka.properties, groups: kafka.groups))
        }
    }
}
