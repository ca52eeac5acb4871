import EventModel

/// The demo's shape on a broker of exchanges and queues (RabbitMQ), from the one routing table
/// (`DemoService`) and the event families (`DemoEventType.topic`). Pure.
///
/// - A durable topic exchange per event family (`orders`, `payments`, `inventory`, `shipments`); the
///   routing key is the event type (`OrderPlaced`).
/// - A durable queue per service, named after it, bound to each family's exchange with the key of each
///   event type it handles, and declared with `x-dead-letter-exchange` = ``deadLetterExchange``.
/// - A fanout ``deadLetterExchange`` feeding ``deadLetterQueue``: a service that gives up on a message
///   rejects it, and RabbitMQ dead-letters it there with its `x-death` header.
public enum QueueDemoLayout {
    /// The exchange every service queue dead-letters to.
    public static let deadLetterExchange = "services.dlx"
    /// The queue holding the dead letters of every service.
    public static let deadLetterQueue = "services.dlq"

    /// One queue binding.
    public struct Binding: Sendable, Hashable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
    }

    /// The event families' exchanges, in layout order.
    public static var familyExchanges: [String] {
        DemoTopics.layout.map(\.name).filter { name in DemoEventType.allCases.contains { $0.topic == name } }
    }

    /// Every exchange with its kind, the dead-letter exchange last.
    public static var exchanges: [(name: String, kind: QueueExchangeKind)] {
        familyExchanges.map { ($0, .topic) } + [(deadLetterExchange, .fanout)]
    }

    /// Every queue with its arguments: the services' (in processing order), then the dead-letter queue.
    public static var queues: [(name: String, arguments: [String: String])] {
        DemoService.all.map { ($0.group, ["x-dead-letter-exchange": deadLetterExchange]) } + [(deadLetterQueue, [:])]
    }

    /// Every binding: each service's queue to the event types it handles, and the dead-letter queue.
    public static var bindings: [Binding] {
        var out: [Binding] = []
        for service in DemoService.all {
            for type in DemoEventType.allCases where service.handles.contains(type) {
                out.append(Binding(queue: service.group, exchange: type.topic, routingKey: type.rawValue))
            }
        }
        out.append(Binding(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: ""))
        return out
    }

    /// An event record as the message a service publishes: to its family's exchange with its type as the
    /// routing key; the `correlation-id`, `message-id`, `type`, `content-type` and `timestamp` properties
    /// from its headers and time; its headers and value unchanged.
    static func message(_ record: OutgoingRecord) -> QueueMessage {
        func header(_ name: String) -> String? { record.headers.last { $0.name == name }?.utf8Value }
        let type = header(DemoHeaders.eventType)
        return QueueMessage(exchange: record.topic, routingKey: type ?? "", correlationID: header(DemoHeaders.correlationID),
                            messageID: header(DemoHeaders.eventID), type: type,
                            contentType: header(DemoHeaders.contentType), timestampMillis: record.timestampMillis,
                            headers: record.headers, body: record.value ?? [])
    }
}
