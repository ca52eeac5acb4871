import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import EventModel

/// The RabbitMQ management plugin's HTTP API (`/api/...`): queue depths, message statistics, bindings
/// and consumers, which AMQP itself cannot list.
struct ManagementAPI: Sendable {
    let base: URL
    let vhost: String
    /// `Basic …`: a secret, never logged.
    let authorization: String
    let timeout: Double

    init(settings: RabbitMQSettings, timeout: Double = 5) {
        base = settings.management
        vhost = settings.vhost
        authorization = "Basic " + Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
        self.timeout = timeout
    }

    /// Why a call failed, worded for an operator.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Nothing answered at the API's address (the plugin is not enabled, or the URL is wrong).
        case unreachable(String)
        /// 401: the user or password is wrong for the API.
        case unauthorized
        /// 404 on the vhost itself.
        case noSuchVhost(String)
        /// Any other answer that is not what the API returns.
        case unexpected(String)

        var description: String {
            switch self {
            case .unreachable(let why): return "management API unreachable (\(why)): enable the rabbitmq_management plugin or give --management URL"
            case .unauthorized: return "the management API refused the user or password"
            case .noSuchVhost(let v): return "vhost '\(v)' does not exist"
            case .unexpected(let why): return "management API: \(why)"
            }
        }
    }

    /// The vhost as one path segment (`/` is `%2F`).
    var vhostSegment: String { Self.segment(vhost) }

    /// A name (vhost, queue, exchange) as one URL path segment: every byte but ASCII letters, digits and
    /// `-._~` percent-encoded (`.alphanumerics` would let non-ASCII letters through unencoded).
    static func segment(_ name: String) -> String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
    }

    /// GETs `path` (already encoded, after `/api/`) and decodes it.
    func get<T: Decodable>(_ path: String, as: T.Type) async throws -> T {
        guard let url = URL(string: base.absoluteString + "/api/" + path) else { throw Failure.unexpected("bad path \(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await Self.fetch(request)
        } catch let error as URLError where error.code == .userCancelledAuthentication || error.code == .userAuthenticationRequired {
            throw Failure.unauthorized  // the 401, as a refused challenge surfaces
        } catch {
            throw Failure.unreachable(Self.reason(error))
        }
        guard let http = response as? HTTPURLResponse else { throw Failure.unexpected("not an HTTP answer") }
        switch http.statusCode {
        case 200: break
        case 401: throw Failure.unauthorized
        case 404 where path.hasPrefix("vhosts/"): throw Failure.noSuchVhost(vhost)
        case 404: throw Failure.unexpected("404 for /api/\(path.prefix(while: { $0 != "?" })): not a RabbitMQ management API?")
        default: throw Failure.unexpected("HTTP \(http.statusCode) for /api/\(path.prefix(while: { $0 != "?" }))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw Failure.unexpected("an answer evtop cannot read for /api/\(path.prefix(while: { $0 != "?" }))")
        }
    }

    /// A session that answers an authentication challenge by taking the 401 as it is: evtop sends its
    /// credentials itself, and swift-corelibs-foundation's default handling of a challenge never
    /// completes the task.
    private static let session = URLSession(configuration: .ephemeral, delegate: NoChallenges(), delegateQueue: nil)

    private final class NoChallenges: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
            completionHandler(.rejectProtectionSpace, nil)
        }
    }

    /// One request through a data task.
    private static func fetch(_ request: URLRequest) async throws -> (Data, URLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error { continuation.resume(throwing: error); return }
                guard let response else { continuation.resume(throwing: URLError(.badServerResponse)); return }
                continuation.resume(returning: (data ?? Data(), response))
            }.resume()
        }
    }

    private static func reason(_ error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }

    // MARK: What evtop reads

    struct Overview: Decodable, Sendable {
        var cluster_name: String?
        var rabbitmq_version: String?
        var management_version: String?
    }

    struct Vhost: Decodable, Sendable { var name: String }

    /// Counters and their rates, as `message_stats` gives them (every field may be absent).
    struct MessageStats: Decodable, Sendable, Hashable {
        struct Details: Decodable, Sendable, Hashable { var rate: Double? }
        var publish: Int64?
        var publish_details: Details?
        var deliver_get: Int64?
        var deliver_get_details: Details?
        var ack: Int64?
        var ack_details: Details?
        var deliver_no_ack: Int64?
        var get_no_ack: Int64?
        var redeliver: Int64?
    }

    struct Queue: Decodable, Sendable {
        var name: String
        var type: String?
        var state: String?
        var durable: Bool?
        var messages: Int64?
        var messages_ready: Int64?
        var messages_unacknowledged: Int64?
        var consumers: Int?
        var consumer_utilisation: Double?
        /// Seconds since the epoch, only when publishers set the `timestamp` property; RabbitMQ sends `""` otherwise.
        var head_message_timestamp: Int64?
        var arguments: [String: JSONValue]?
        var message_stats: MessageStats?

        enum CodingKeys: String, CodingKey {
            case name, type, state, durable, messages, messages_ready, messages_unacknowledged, consumers
            case consumer_utilisation, head_message_timestamp, arguments, message_stats
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            type = try? c.decodeIfPresent(String.self, forKey: .type)
            state = try? c.decodeIfPresent(String.self, forKey: .state)
            durable = try? c.decodeIfPresent(Bool.self, forKey: .durable)
            messages = try? c.decodeIfPresent(Int64.self, forKey: .messages)
            messages_ready = try? c.decodeIfPresent(Int64.self, forKey: .messages_ready)
            messages_unacknowledged = try? c.decodeIfPresent(Int64.self, forKey: .messages_unacknowledged)
            consumers = try? c.decodeIfPresent(Int.self, forKey: .consumers)
            consumer_utilisation = try? c.decodeIfPresent(Double.self, forKey: .consumer_utilisation)
            head_message_timestamp = try? c.decodeIfPresent(Int64.self, forKey: .head_message_timestamp)
            arguments = try? c.decodeIfPresent([String: JSONValue].self, forKey: .arguments)
            message_stats = try? c.decodeIfPresent(MessageStats.self, forKey: .message_stats)
        }
    }

    struct Binding: Decodable, Sendable, Hashable {
        var source: String
        var destination: String
        var destination_type: String
        var routing_key: String
        var arguments: [String: JSONValue]?

        /// The binding as the queue's facts list it.
        var queueBinding: QueueBinding {
            QueueBinding(exchange: source, routingKey: routing_key,
                         arguments: (arguments ?? [:]).queueArguments)
        }
    }

    struct Consumer: Decodable, Sendable {
        struct QueueRef: Decodable, Sendable { var name: String }
        struct ChannelRef: Decodable, Sendable { var name: String? }
        var queue: QueueRef
        var consumer_tag: String?
        var prefetch_count: Int?
        var ack_required: Bool?
        var active: Bool?
        var channel_details: ChannelRef?

        /// The consumer as the queue's facts list it.
        var queueConsumer: QueueConsumer {
            QueueConsumer(tag: consumer_tag ?? "?", prefetch: prefetch_count, acknowledges: ack_required, active: active,
                          channel: channel_details?.name)
        }
    }

    func overview() async throws -> Overview { try await get("overview", as: Overview.self) }

    /// Throws ``Failure/noSuchVhost`` when the vhost does not exist.
    func checkVhost() async throws { _ = try await get("vhosts/\(vhostSegment)", as: Vhost.self) }

    func queues() async throws -> [Queue] {
        // `columns` keeps the answer small on a server with thousands of queues.
        let columns = "name,type,state,durable,messages,messages_ready,messages_unacknowledged,consumers,consumer_utilisation,head_message_timestamp,arguments,message_stats"
        return try await get("queues/\(vhostSegment)?columns=\(columns)", as: [Queue].self)
    }

    func bindings() async throws -> [Binding] { try await get("bindings/\(vhostSegment)", as: [Binding].self) }

    func consumers() async throws -> [Consumer] { try await get("consumers/\(vhostSegment)", as: [Consumer].self) }
}

/// Any JSON value (queue arguments are typed by their name, not by the API).
enum JSONValue: Decodable, Sendable, Hashable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// The value as an argument reads in a table: strings bare, whole numbers without a fraction.
    var text: String {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]?.text ?? "")" }.joined(separator: ", ") + "}"
        }
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Queue or binding arguments as evtop shows them: sorted by name, values as text.
    var queueArguments: [QueueArgument] {
        map { QueueArgument(name: $0.key, value: $0.value.text) }.sorted { $0.name < $1.name }
    }
}
