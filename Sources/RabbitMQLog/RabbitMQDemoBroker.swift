import Foundation
import EventModel

/// The demo simulator's access to a RabbitMQ virtual host (see ``QueueDemoBroker``): declarations on a
/// connection of their own, publishes on one connection in confirm mode, and every consumer on a
/// connection of its own (so that deliveries never interleave with confirms). Every librabbitmq call
/// runs on one serial queue, off the cooperative pool: they block.
public final class RabbitMQDemoBroker: QueueDemoBroker, @unchecked Sendable {
    // @unchecked: `publisher` and `published` are only touched on `worker`, one call at a time.
    public let sourceDescription: String
    let settings: RabbitMQSettings
    let properties: [String: String]
    let worker = DispatchQueue(label: "evtop.rabbitmq.demo")
    private var publisher: AMQPConnection?
    /// Publishes sent on the current publisher's channel (its confirm sequence numbers start at 1).
    private var published: UInt64 = 0
    /// Longest wait for the server to confirm a batch: past it the broker is taken for gone.
    static let confirmTimeoutSeconds = 10

    /// The demo on the virtual host `log` reads.
    public init(log: RabbitMQLog) {
        self.settings = log.settings
        self.properties = log.properties
        self.sourceDescription = log.sourceDescription
    }

    static func run<T: Sendable>(on worker: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            worker.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private func onWorker<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.run(on: worker, work)
    }

    /// Runs `work` on a short-lived connection (a refused declaration closes its channel).
    private func declaring(_ work: @escaping @Sendable (AMQPConnection) throws -> Void) async throws {
        let settings = self.settings, properties = self.properties
        try await onWorker { try work(AMQPConnection(settings: settings, properties: properties)) }
    }

    public func declareExchange(_ name: String, kind: QueueExchangeKind) async throws {
        try await declaring { try $0.declareExchange(name, kind: kind.rawValue) }
    }

    public func declareQueue(_ name: String, arguments: [String: String]) async throws {
        try await declaring { try $0.declareQueue(name, arguments: arguments) }
    }

    public func bind(queue: String, exchange: String, routingKey: String) async throws {
        try await declaring { try $0.bind(queue: queue, exchange: exchange, routingKey: routingKey) }
    }

    public func publish(_ messages: [QueueMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await onWorker { [self] in
            do {
                try publishOnWorker(messages)
            } catch {
                publisher = nil  // in doubt: the next publish starts on a fresh connection
                throw error
            }
        }
    }

    private func publishOnWorker(_ messages: [QueueMessage]) throws {
        let connection: AMQPConnection
        if let publisher {
            connection = publisher
        } else {
            connection = try AMQPConnection(settings: settings, properties: properties)
            try connection.selectConfirms()
            publisher = connection
            published = 0
        }
        let first = published + 1
        for message in messages {
            try connection.publish(message)
            published += 1
        }
        let last = published
        var settled: Set<UInt64> = []
        let events = try connection.awaitConfirms(timeoutSeconds: Self.confirmTimeoutSeconds, redriveIDHeader: "") { events in
            for (tag, multiple) in events.acked + events.nacked {
                if multiple { if tag >= first { for s in first...min(tag, last) { settled.insert(s) } } } else { settled.insert(tag) }
            }
            return (first...last).allSatisfy { settled.contains($0) }
        }
        if !events.nacked.isEmpty {
            throw BrokerError.writeRefused("RabbitMQ refused \(events.nacked.count) of \(messages.count) published messages (basic.nack)")
        }
    }

    public func consume(queue: String, consumerTag: String, prefetch: Int) async throws -> any QueueDemoConsumer {
        let settings = self.settings, properties = self.properties
        let connection = try await onWorker {
            let connection = try AMQPConnection(settings: settings, properties: properties)
            try connection.startConsumer(queue: queue, tag: consumerTag, prefetch: prefetch)
            return connection
        }
        return RabbitMQDemoConsumer(queue: queue, worker: worker, connection: connection)
    }
}

/// One consumer of the demo (see ``QueueDemoConsumer``), on a connection of its own; its calls run on the
/// demo's serial queue.
final class RabbitMQDemoConsumer: QueueDemoConsumer, @unchecked Sendable {
    // @unchecked: `connection` is only touched on `worker`, one call at a time.
    let queue: String
    let worker: DispatchQueue
    private var connection: AMQPConnection?

    init(queue: String, worker: DispatchQueue, connection: AMQPConnection) {
        self.queue = queue
        self.worker = worker
        self.connection = connection
    }

    private func requireConnection() throws -> AMQPConnection {
        guard let connection else { throw BrokerError.unavailable("the demo's consumer of \(queue) is closed") }
        return connection
    }

    func take(max: Int) async throws -> [TakenMessage] {
        try await RabbitMQDemoBroker.run(on: worker) { [self] in
            let connection = try requireConnection()
            var out: [TakenMessage] = []
            do {
                // Called with max 0 too: reading (nothing) still answers the server's heartbeats.
                repeat {
                    guard let d = try connection.nextDelivery() else { break }
                    out.append(TakenMessage(tag: d.deliveryTag,
                                            record: RabbitMQLog.record(d, topic: queue, ordinal: Int64(clamping: d.deliveryTag))))
                } while out.count < max
            } catch BrokerError.unavailable(let why) {
                throw BrokerError.unavailable("\(queue) consumer: \(why)")
            }
            return out
        }
    }

    func ack(_ tags: [UInt64]) async throws {
        guard !tags.isEmpty else { return }
        try await RabbitMQDemoBroker.run(on: worker) { [self] in
            let connection = try requireConnection()
            for tag in tags { try connection.ack(tag) }
        }
    }

    func reject(_ tag: UInt64) async throws {
        try await RabbitMQDemoBroker.run(on: worker) { [self] in try requireConnection().reject(tag) }
    }

    func close() async {
        _ = try? await RabbitMQDemoBroker.run(on: worker) { [self] in
            connection = nil  // closing the connection returns every unacknowledged delivery to the queue
        }
    }
}
