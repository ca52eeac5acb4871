import Foundation
import EventModel

/// Where a RabbitMQ virtual host is and how to log in: parsed from `amqp://user:pass@host:port/vhost`.
///
/// Holds the password: never print it. ``description`` is the URL without credentials.
public struct RabbitMQSettings: Sendable, Equatable {
    /// `amqps` (TLS) or plain `amqp`.
    public var tls: Bool
    /// AMQP host.
    public var host: String
    /// AMQP port (5672, or 5671 with TLS, when the URL gives none).
    public var port: Int
    /// Virtual host ("/" when the URL has no path).
    public var vhost: String
    /// User name ("guest" when the URL has none, as every AMQP client does).
    public var user: String
    /// Password: a secret.
    public var password: String
    /// The management API's base URL (`http://HOST:15672` by default).
    public var management: URL
    /// Queues shown even when the management API cannot list them (the context's groups, `--group`).
    public var knownQueues: [String]

    /// Parses an `amqp://` or `amqps://` URL as RabbitMQ's URI spec reads it: user, password and vhost are
    /// percent-decoded, an empty path is the default vhost "/", `%2F` is "/".
    /// - Parameters:
    ///   - url: the broker URL, with its scheme.
    ///   - management: the management API's base URL; nil for `http://HOST:15672`.
    public init(url: String, management: String? = nil, knownQueues: [String] = []) throws {
        let shown = Secrets.url(url)
        let lower = url.lowercased()
        guard lower.hasPrefix("amqp://") || lower.hasPrefix("amqps://") else {
            throw BrokerError.badURL(shown, reason: "use amqp://USER:PASSWORD@HOST:5672/VHOST")
        }
        tls = lower.hasPrefix("amqps://")
        var rest = Substring(url.dropFirst(tls ? 8 : 7))
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            throw BrokerError.badURL(shown, reason: "parameters after '\(rest[cut])' are not read: give the management API with --management")
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var authority = rest
        user = "guest"
        password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = parts[0].removingPercentEncoding, let p = (parts.count > 1 ? parts[1] : "").removingPercentEncoding else {
                throw BrokerError.badURL(shown, reason: "the user or password is not valid percent-encoding")
            }
            user = u
            password = parts.count > 1 ? p : ""
        }
        var hostPart = authority
        var portNumber = tls ? 5671 : 5672
        if hostPart.hasPrefix("[") {  // [::1]:5672
            guard let close = hostPart.firstIndex(of: "]") else { throw BrokerError.badURL(shown, reason: "unclosed '[' in the host") }
            let after = hostPart[hostPart.index(after: close)...]
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw BrokerError.badURL(shown, reason: "the port is not a number from 1 to 65535") }
                portNumber = p
            }
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(p) else {
                throw BrokerError.badURL(shown, reason: "the port is not a number from 1 to 65535")
            }
            portNumber = p
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw BrokerError.badURL(shown, reason: "no host (example: amqp://guest:guest@localhost:5672/)") }
        host = String(hostPart)
        port = portNumber
        guard let v = path.removingPercentEncoding else { throw BrokerError.badURL(shown, reason: "the vhost is not valid percent-encoding") }
        vhost = v.isEmpty ? "/" : v
        let base = management ?? "http://\(host.contains(":") ? "[\(host)]" : host):15672"
        guard let m = URL(string: base.hasSuffix("/") ? String(base.dropLast()) : base), let scheme = m.scheme?.lowercased(),
              scheme == "http" || scheme == "https", m.host != nil else {
            throw BrokerError.badURL(Secrets.url(base), reason: "the management API must be an http:// or https:// URL (example: http://localhost:15672)")
        }
        if m.user != nil || m.password != nil {
            throw BrokerError.badURL(Secrets.url(base), reason: "the management URL takes no user or password: the broker URL's are used")
        }
        self.management = m
        self.knownQueues = knownQueues
    }

    /// The URL without credentials: `amqp://host:port/vhost` (the vhost percent-encoded).
    public var description: String {
        let encoded = vhost == "/" ? "" : ManagementAPI.segment(vhost)
        return "\(tls ? "amqps" : "amqp")://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(encoded)"
    }
}
