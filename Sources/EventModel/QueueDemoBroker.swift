import Foundation

// The demo simulator on a broker of exchanges and queues (RabbitMQ): services publish to exchanges,
// each service consumes a queue of its own with manual acknowledgements, and a message a service gives
// up on is rejected so that the broker itself dead-letters it. A source offers these primitives; the
// simulator (QueueDemoSystem) drives them. Only the demo uses this capability.

/// How an exchange routes.
public enum QueueExchangeKind: String, Sendable, Hashable {
    /// By routing-key pattern (`*`, `#`).
    case topic
    /// By exact routing key.
    case direct
    /// To every bound queue, whatever the key.
    case fanout
}

/// A message the demo publishes: where it goes, its standard properties, headers and body.
public struct QueueMessage: Sendable, Hashable {
    /// The exchange it is published to.
    public var exchange: String
    /// The routing key (the demo uses the event type).
    public var routingKey: String
    /// The `correlation-id` property.
    public var correlationID: String?
    /// The `message-id` property.
    public var messageID: String?
    /// The `type` property.
    public var type: String?
    /// The `content-type` property.
    public var contentType: String?
    /// The `timestamp` property, in milliseconds since the epoch (AMQP carries whole seconds).
    public var timestampMillis: Int64?
    /// Application headers, as text (bytes that are not UTF-8 are kept as they are).
    public var headers: [RecordHeader]
    /// The body, byte for byte.
    public var body: [UInt8]

    /// Creates a message.
    public init(exchange: String, routingKey: String, correlationID: String? = nil, messageID: String? = nil,
                type: String? = nil, contentType: String? = nil, timestampMillis: Int64? = nil,
                headers: [RecordHeader] = [], body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.correlationID = correlationID
        self.messageID = messageID
        self.type = type
        self.contentType = contentType
        self.timestampMillis = timestampMillis
        self.headers = headers
        self.body = body
    }
}

/// A broker of exchanges and queues the demo simulator can run on.
public protocol QueueDemoBroker: Sendable {
    /// The source as the user named it, without secrets.
    var sourceDescription: String { get }

    /// Declares a durable exchange; an existing one of the same kind is kept.
    func declareExchange(_ name: String, kind: QueueExchangeKind) async throws

    /// Declares a durable queue with text-valued arguments (`x-dead-letter-exchange`); an existing one
    /// with the same arguments is kept (the broker refuses one declared with other arguments).
    func declareQueue(_ name: String, arguments: [String: String]) async throws

    /// Binds a queue to an exchange with a routing key.
    func bind(queue: String, exchange: String, routingKey: String) async throws

    /// Publishes the messages in order, persistent, and returns once the broker confirmed every one;
    /// throws when it refused one or went away (what was not confirmed may or may not have been stored).
    func publish(_ messages: [QueueMessage]) async throws

    /// Attaches a consumer to `queue` with manual acknowledgements and at most `prefetch` messages
    /// delivered and not yet acknowledged. The broker then counts it among the queue's consumers.
    func consume(queue: String, consumerTag: String, prefetch: Int) async throws -> any QueueDemoConsumer
}

/// One consumer of a queue: takes what the broker delivered, acknowledges or rejects it.
public protocol QueueDemoConsumer: Sendable {
    /// Up to `max` of the messages delivered so far, in delivery order, without waiting for more.
    /// Each record's `offset` is its delivery tag; its headers are the message's properties (`amqp.*`)
    /// and headers, as `LogReader.read` gives them.
    func take(max: Int) async throws -> [TakenMessage]

    /// Acknowledges handled messages by tag.
    func ack(_ tags: [UInt64]) async throws

    /// Rejects a message without requeueing it: the broker dead-letters it to the queue's
    /// `x-dead-letter-exchange`, writing the `x-death` header (reason `rejected`).
    func reject(_ tag: UInt64) async throws

    /// Detaches: every message delivered and not acknowledged goes back to the queue.
    func close() async
}
