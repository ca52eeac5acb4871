import Foundation
import Synchronization
import EventModel

extension RabbitMQLog: QueueMover {
    /// Opens a redrive session on `queue`: one connection takes and acknowledges, another publishes in
    /// confirm mode (so confirms never interleave with the replies of `basic.get`).
    public func openMoveSession(queue: String) async throws -> any QueueMoveSession {
        let settings = self.settings, properties = self.properties
        let worker = DispatchQueue(label: "evtop.rabbitmq.move")
        let connections: (AMQPConnection, AMQPConnection) = try await RabbitMQMoveSession.run(on: worker) {
            let taker = try AMQPConnection(settings: settings, properties: properties)
            let publisher = try AMQPConnection(settings: settings, properties: properties)
            try publisher.selectConfirms()
            return (taker, publisher)
        }
        return RabbitMQMoveSession(queue: queue, settings: settings, properties: properties, worker: worker,
                                   taker: connections.0, publisher: connections.1)
    }
}

/// A redrive session on one queue (see ``QueueMoveSession``). Every librabbitmq call runs on `worker`.
final class RabbitMQMoveSession: QueueMoveSession, @unchecked Sendable {
    // @unchecked: the mutable state below is only touched on `worker`, one call at a time.
    let queue: String
    let settings: RabbitMQSettings
    let properties: [String: String]
    let worker: DispatchQueue
    private var taker: AMQPConnection?
    private var publisher: AMQPConnection?
    /// Taken messages that may still be published, by delivery tag.
    private var contents: [UInt64: AMQPContent] = [:]
    /// Publishes sent on the publisher channel so far (confirm sequence numbers start at 1).
    private var published: UInt64 = 0
    private var takenCount: Int64 = 0
    /// Messages taken from the server and not yet handed to the job.
    private var buffered: ArraySlice<(delivery: AMQPDelivery, content: AMQPContent?)> = []
    /// Exchanges known to exist.
    private var exchanges: Set<String> = [""]

    init(queue: String, settings: RabbitMQSettings, properties: [String: String], worker: DispatchQueue,
         taker: AMQPConnection, publisher: AMQPConnection) {
        self.queue = queue
        self.settings = settings
        self.properties = properties
        self.worker = worker
        self.taker = taker
        self.publisher = publisher
    }

    deinit {
        // Closing a connection blocks up to its call timeout: never on the thread that drops the session
        // (a cancelled job may drop it on the cooperative pool), always on the worker.
        let connections = [taker, publisher].compactMap { $0 }
        guard !connections.isEmpty else { return }
        let held = ConnectionsToClose(connections)
        worker.async { held.close() }
    }

    static func run<T: Sendable>(on worker: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            worker.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private func onWorker<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.run(on: worker, work)
    }

    private func requireTaker() throws -> AMQPConnection {
        guard let taker else { throw BrokerError.unavailable("the redrive session on \(queue) is closed") }
        return taker
    }

    func take() async throws -> TakenMessage? {
        try await onWorker { [self] in
            if buffered.isEmpty {
                // Taken ahead in one round trip; what the job does not reach is returned with the rest at close.
                buffered = try requireTaker().takeMany(queue: queue, count: RabbitMQLog.browseBatch, keepingContent: true)[...]
            }
            guard let (delivery, content) = buffered.popFirst() else { return nil }
            contents[delivery.deliveryTag] = content
            let record = RabbitMQLog.record(delivery, topic: queue, ordinal: takenCount)
            takenCount += 1
            return TakenMessage(tag: delivery.deliveryTag, record: record)
        }
    }

    func release(_ tag: UInt64) async {
        _ = try? await onWorker { [self] in contents[tag] = nil }
    }

    func publish(_ publishes: [QueuePublish]) async throws -> [QueuePublishOutcome] {
        try await onWorker { [self] in try publishOnWorker(publishes) }
    }

    private func publishOnWorker(_ publishes: [QueuePublish]) throws -> [QueuePublishOutcome] {
        var outcomes = [QueuePublishOutcome?](repeating: nil, count: publishes.count)
        // A missing exchange would close the confirm channel mid-batch: ask first, on a connection of its own.
        for name in Set(publishes.map(\.target.exchange)) where !exchanges.contains(name) {
            let probe = try AMQPConnection(settings: settings, properties: properties)
            if try probe.exchangeExists(name) { exchanges.insert(name) }
        }
        guard let publisher else { throw BrokerError.unavailable("the redrive session on \(queue) is closed") }
        var sequence: [UInt64: Int] = [:]  // confirm sequence number → index
        var byRedriveID: [String: Int] = [:]
        for (i, p) in publishes.enumerated() {
            guard exchanges.contains(p.target.exchange) else {
                outcomes[i] = .refused("exchange '\(p.target.exchange)' does not exist in vhost '\(settings.vhost)'")
                continue
            }
            guard let content = contents[p.tag] else {
                outcomes[i] = .refused("the message is no longer held by this session")
                continue
            }
            try publisher.publish(content, exchange: p.target.exchange, routingKey: p.target.routingKey, removing: p.removing,
                                  adding: p.adding.map { ($0.name, $0.value) }, user: settings.user)
            published += 1
            sequence[published] = i
            if let id = p.adding.first(where: { $0.name == DeadLetterHeaderNames.Evtop.redriveID })?.utf8Value { byRedriveID[id] = i }
        }
        guard let first = sequence.keys.min(), let last = sequence.keys.max() else { return outcomes.map { $0 ?? .refused("not published") } }
        var settled: Set<UInt64> = []
        let events = try publisher.awaitConfirms(timeoutSeconds: 30, redriveIDHeader: DeadLetterHeaderNames.Evtop.redriveID) { events in
            for (tag, multiple) in events.acked + events.nacked {
                if multiple { for s in first...min(tag, last) { settled.insert(s) } } else { settled.insert(tag) }
            }
            return (first...last).allSatisfy { settled.contains($0) }
        }
        func apply(_ list: [(tag: UInt64, multiple: Bool)], _ outcome: QueuePublishOutcome) {
            for (tag, multiple) in list {
                for s in (multiple ? first...min(tag, last) : tag...tag) {
                    if let i = sequence[s], outcomes[i] == nil { outcomes[i] = outcome }
                }
            }
        }
        // A returned publish is then acked by the server: the return decides.
        for r in events.returned {
            if let id = r.redriveID, let i = byRedriveID[id] {
                outcomes[i] = .refused("unroutable: no queue is bound to \(publishes[i].target) (\(r.reason))")
            }
        }
        apply(events.nacked, .refused("the server refused it (basic.nack)"))
        apply(events.acked, .confirmed)
        return outcomes.map { $0 ?? .refused("no confirm came for it") }
    }

    func acknowledge(_ tags: [UInt64]) async throws {
        try await onWorker { [self] in
            let connection = try requireTaker()
            for tag in tags {
                try connection.ack(tag)
                contents[tag] = nil
            }
        }
    }

    func close() async {
        _ = try? await onWorker { [self] in
            try? taker?.returnAll()
            contents = [:]
            buffered = []
            taker = nil  // closing returns whatever is still held
            publisher = nil
        }
    }
}


/// Connections handed to the worker to be closed (their deinit closes them) there.
private final class ConnectionsToClose: @unchecked Sendable {
    // @unchecked: handed over once, then only touched on the worker.
    private var connections: [AMQPConnection]
    init(_ connections: [AMQPConnection]) { self.connections = connections }
    func close() { connections.removeAll() }
}
