import Foundation

/// What a queue broker (RabbitMQ) reports about one queue besides its depth: its kind, how its messages
/// split between ready and delivered, running counters of deliveries and acknowledgements (from which
/// evtop measures rates, as it does from a log's high watermark), its arguments, what feeds it and who
/// consumes it. Every figure is optional: nil means the broker did not say, shown as unknown, never 0.
public struct QueueFacts: Sendable, Hashable, Codable {
    /// `classic`, `quorum` or `stream`, as the broker names it.
    public var type: String?
    /// The broker's state for the queue (`running`, `idle`, `flow`, `down`, ...).
    public var state: String?
    /// True when the queue survives a broker restart.
    public var durable: Bool?
    /// Messages waiting to be delivered.
    public var ready: Int64?
    /// Messages delivered to a consumer and not yet acknowledged.
    public var unacknowledged: Int64?
    /// Consumers attached (basic.consume); `basic.get` pollers are not counted by the broker.
    public var consumerCount: Int?
    /// Share of time the queue could deliver to its consumers at once (0...1), where the broker measures it.
    public var utilisation: Double?
    /// Running count of messages delivered (to consumers and to `basic.get`); only grows, a decrease is a reset.
    public var delivered: Int64?
    /// Running count of acknowledgements (plus deliveries that needed none); only grows.
    public var acknowledged: Int64?
    /// The queue's arguments (`x-dead-letter-exchange`, `x-message-ttl`, ...), sorted by name, values as text.
    public var arguments: [QueueArgument]
    /// What routes messages into the queue, sorted (the default exchange's implicit binding left out).
    public var bindings: [QueueBinding]
    /// The consumers attached, where the broker lists them; nil when it was not asked or could not say.
    public var consumers: [QueueConsumer]?

    /// Creates facts; what the broker does not say stays nil or empty.
    public init(type: String? = nil, state: String? = nil, durable: Bool? = nil, ready: Int64? = nil,
                unacknowledged: Int64? = nil, consumerCount: Int? = nil, utilisation: Double? = nil,
                delivered: Int64? = nil, acknowledged: Int64? = nil, arguments: [QueueArgument] = [],
                bindings: [QueueBinding] = [], consumers: [QueueConsumer]? = nil) {
        self.type = type
        self.state = state
        self.durable = durable
        self.ready = ready
        self.unacknowledged = unacknowledged
        self.consumerCount = consumerCount
        self.utilisation = utilisation
        self.delivered = delivered
        self.acknowledged = acknowledged
        self.arguments = arguments
        self.bindings = bindings
        self.consumers = consumers
    }

    /// The exchanges that route into the queue, sorted, each once.
    public var sources: [String] { Array(Set(bindings.map(\.exchange))).sorted() }

    /// An argument's value, by name.
    public func argument(_ name: String) -> String? { arguments.first { $0.name == name }?.value }
}

/// One queue argument, its value as text.
public struct QueueArgument: Sendable, Hashable, Codable {
    /// The argument's name, such as `x-dead-letter-exchange`.
    public var name: String
    /// Its value as text (numbers without a fraction when whole).
    public var value: String

    /// Creates an argument.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A binding that routes into a queue: from an exchange, by a routing key (and header arguments for a headers exchange).
public struct QueueBinding: Sendable, Hashable, Codable, Comparable {
    /// The exchange messages come from.
    public var exchange: String
    /// The binding key (`#`, `order.*`, ...); empty for fanout exchanges.
    public var routingKey: String
    /// Binding arguments as text (headers exchanges match on them), sorted by name.
    public var arguments: [QueueArgument]

    /// Creates a binding.
    public init(exchange: String, routingKey: String, arguments: [QueueArgument] = []) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }

    /// By exchange, then key.
    public static func < (a: QueueBinding, b: QueueBinding) -> Bool {
        a.exchange != b.exchange ? a.exchange < b.exchange : a.routingKey < b.routingKey
    }
}

/// One consumer attached to a queue.
public struct QueueConsumer: Sendable, Hashable, Codable {
    /// The consumer tag.
    public var tag: String
    /// Unacknowledged messages the consumer may hold at once (0: no limit); nil when unknown.
    public var prefetch: Int?
    /// False for a consumer in no-ack mode (messages count as done when sent).
    public var acknowledges: Bool?
    /// False for a single-active-consumer standby.
    public var active: Bool?
    /// Where it is connected from (the connection's client address and channel), when reported.
    public var channel: String?

    /// Creates a consumer description.
    public init(tag: String, prefetch: Int? = nil, acknowledges: Bool? = nil, active: Bool? = nil, channel: String? = nil) {
        self.tag = tag
        self.prefetch = prefetch
        self.acknowledges = acknowledges
        self.active = active
        self.channel = channel
    }
}
