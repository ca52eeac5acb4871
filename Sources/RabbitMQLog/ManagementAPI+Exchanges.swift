import Foundation
import EventModel

extension ManagementAPI {
    /// An exchange as `/api/exchanges/VHOST` lists it.
    struct Exchange: Decodable, Sendable, Hashable {
        var name: String
        var type: String
        var `internal`: Bool?
    }

    /// The vhost's exchanges (the default exchange is listed with an empty name).
    func exchanges() async throws -> [Exchange] {
        try await get("exchanges/\(vhostSegment)?columns=name,type,internal", as: [Exchange].self)
    }

    /// One queue's depth and counters (for the tap's own queue: what the server dropped).
    func queue(named name: String) async throws -> Queue {
        try await get("queues/\(vhostSegment)/\(Self.segment(name))?columns=name,messages,message_stats", as: Queue.self)
    }
}

/// One binding of the tap queue: an exchange, a routing key, and whether it is a headers binding
/// (`x-match: all` with no other argument, which matches every message).
struct TapBinding: Sendable, Hashable, Comparable {
    var exchange: String
    var routingKey: String
    var headersMatchAll: Bool

    static func < (a: TapBinding, b: TapBinding) -> Bool {
        (a.exchange, a.routingKey) < (b.exchange, b.routingKey)
    }
}

/// Which bindings give the tap a copy of every message published to the exchanges: pure, so it is tested
/// without a server.
enum TapPlan {
    /// What the tap binds, and the exchanges it was asked for but cannot tap (with why).
    struct Result: Sendable, Equatable {
        var bindings: [TapBinding]
        var skipped: [String]
        /// Exchanges with at least one binding.
        var exchanges: Set<String> { Set(bindings.map(\.exchange)) }
    }

    /// Topic exchanges get `#`, fanout exchanges `""`, headers exchanges `x-match: all` with no
    /// arguments, direct exchanges each routing key their existing bindings use (a message no binding
    /// routes reaches no service either). The default exchange (it routes by queue name: binding to it is
    /// refused), `amq.rabbitmq.*` (the server's own) and internal exchanges (nothing is published to them
    /// directly) are left out; so are exchanges of other types (plugins' routing is their own).
    /// `named`: only those exchanges (nil: every one).
    static func bindings(exchanges: [ManagementAPI.Exchange], bindings: [ManagementAPI.Binding], named: [String]?) -> Result {
        var out: [TapBinding] = []
        var skipped: [String] = []
        let byName = Dictionary(exchanges.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let wanted: [ManagementAPI.Exchange]
        if let named {
            wanted = named.compactMap { name in
                guard let e = byName[name] else { skipped.append("\(name) (no such exchange)"); return nil }
                return e
            }
        } else {
            wanted = exchanges
        }
        for e in wanted {
            if e.name.isEmpty || e.name.hasPrefix("amq.rabbitmq.") {
                if named != nil { skipped.append("\(e.name.isEmpty ? "(default)" : e.name) (not tapped: the server's own)") }
                continue
            }
            if e.internal == true {
                if named != nil { skipped.append("\(e.name) (internal: nothing is published to it)") }
                continue
            }
            switch e.type {
            case "topic": out.append(TapBinding(exchange: e.name, routingKey: "#", headersMatchAll: false))
            case "fanout": out.append(TapBinding(exchange: e.name, routingKey: "", headersMatchAll: false))
            case "headers": out.append(TapBinding(exchange: e.name, routingKey: "", headersMatchAll: true))
            case "direct":
                let keys = Set(bindings.filter { $0.source == e.name }.map(\.routing_key))
                for key in keys.sorted() { out.append(TapBinding(exchange: e.name, routingKey: key, headersMatchAll: false)) }
            default:
                if named != nil { skipped.append("\(e.name) (type \(e.type) is not tapped)") }
            }
        }
        return Result(bindings: out.sorted(), skipped: skipped)
    }

    /// Bindings whose destination is the tap queue itself are not the services' routing keys.
    static func servicesBindings(_ all: [ManagementAPI.Binding], tapQueue: String?) -> [ManagementAPI.Binding] {
        all.filter { !($0.destination_type == "queue" && $0.destination == tapQueue) && !$0.destination.hasPrefix(RabbitMQTap.queuePrefix) }
    }
}
