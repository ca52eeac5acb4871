import Foundation
import EventModel

/// What evtop needs to reach a Kafka cluster: bootstrap servers, librdkafka properties, known groups.
public struct KafkaSettings: Sendable, Equatable {
    /// Bootstrap servers as `host:port`.
    public var bootstrap: [String]
    /// librdkafka properties (`-X key=value` and the context's `properties`); may hold secrets.
    public var properties: [String: String]
    /// Consumer groups to show when the cluster cannot list groups (from the context or `--group`).
    public var groups: [String]
    /// How long one metadata, offsets or admin round trip may take before the broker counts as unavailable.
    public var requestTimeout: Duration

    /// Creates settings.
    public init(bootstrap: [String], properties: [String: String] = [:], groups: [String] = [],
                requestTimeout: Duration = .seconds(5)) {
        self.bootstrap = bootstrap
        self.properties = properties
        self.groups = groups
        self.requestTimeout = requestTimeout
    }

    /// `kafka://h1:9092,h2:9092` (the servers sorted, so that every spelling of one list names the
    /// same source in the redrive journal), plus the security protocol when one is set: never a secret.
    public var description: String {
        // Secrets.url: a server spelt `user:password@host` (never accepted from a URL) still shows no password.
        var text = Secrets.url("kafka://" + bootstrap.sorted().joined(separator: ","))
        if let proto = properties["security.protocol"], !KafkaSecrets.isSecret("security.protocol") {
            text += " (\(proto.lowercased()))"
        }
        return text
    }

    /// Milliseconds of `requestTimeout`, at least 100.
    var timeoutMillis: Int32 {
        let (s, a) = requestTimeout.components
        return Int32(clamping: max(100, s * 1000 + a / 1_000_000_000_000_000))
    }
}

/// Which librdkafka properties are secrets, and how to show a property list without them: evtop's one
/// rule (``Secrets``) applied to librdkafka's properties.
public enum KafkaSecrets {
    /// True for passwords, secrets, tokens, keys, credentials and OAUTHBEARER or JAAS config: never shown or logged.
    public static func isSecret(_ key: String) -> Bool { Secrets.isSecretName(key) }

    /// `key=value` lines sorted by key, with every secret's value replaced by `***`.
    public static func redacted(_ properties: [String: String]) -> [String] { Secrets.redacted(properties) }

    /// `text` (a librdkafka error string) with every secret value of `properties`, and anything else
    /// ``Secrets/scrub(_:values:)`` masks, replaced by `***`.
    public static func scrub(_ text: String, properties: [String: String]) -> String {
        Secrets.scrub(text, values: properties.filter { isSecret($0.key) }.map(\.value))
    }
}
