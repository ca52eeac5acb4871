import Foundation
import Synchronization
import EventModel

/// A RabbitMQ virtual host as a broker log: queues are topics of one partition known by their depth,
/// each queue's consumers are a group whose lag RabbitMQ counts, and dead-letter queues are found from
/// the queues' `x-dead-letter-exchange` arguments. Figures come from the management API; messages are
/// read over AMQP (librabbitmq) by browsing: taken without acknowledgement and returned at once, in
/// their places. How each figure maps: the BrokerMapping article of EventModel.
public final class RabbitMQLog: LogReader, Sendable {
    /// The URL without credentials.
    public let sourceDescription: String
    let settings: RabbitMQSettings
    let api: ManagementAPI
    let properties: [String: String]
    /// Every AMQP operation runs here: librabbitmq blocks, and two browses at once would each hide the
    /// messages the other holds.
    private let amqpQueue = DispatchQueue(label: "evtop.rabbitmq.amqp")
    private let facts = Mutex<ServerFacts?>(nil)
    /// Each queue's kind as the last snapshot (or a lookup) saw it: how a browse must return what it took.
    private let queueKinds = Mutex<[String: QueueKind]>([:])

    /// What decides how a queue may be browsed.
    struct QueueKind: Sendable {
        /// `classic`, `quorum`, `stream`; nil when the management API could not say (then until `retryAfter`).
        var type: String?
        /// True when returning a message counts against a delivery limit (`x-delivery-limit`, or any quorum
        /// queue on RabbitMQ 4, whose default limit is 20): browsing would dead-letter what it returns.
        var limitsDeliveries: Bool
        var retryAfter: Date?
    }

    /// What does not change while evtop runs: read once from `/api/overview`.
    struct ServerFacts: Sendable {
        var clusterName: String?
        /// False when the server keeps no message statistics (`rates_mode: none`): no rates, no ack counts.
        var keepsStatistics: Bool
        /// RabbitMQ's major version (3, 4), where the overview names it.
        var majorVersion: Int? = nil
    }

    /// Prepares the source; nothing is contacted until the first call.
    /// - Parameter properties: TLS settings (`ssl.ca.location`, `enable.ssl.certificate.verification`).
    public init(settings: RabbitMQSettings, properties: [String: String] = [:]) {
        self.settings = settings
        self.properties = properties
        self.api = ManagementAPI(settings: settings)
        self.sourceDescription = settings.description
    }

    // MARK: LogReader

    /// Queues, their consumers and the dead-letter topology, from the management API; without it, the
    /// depths of the queues named in the settings over AMQP, with the snapshot's ``BrokerSnapshot/limitation`` saying so.
    public func snapshot() async throws -> BrokerSnapshot {
        let now = Date()
        let facts: ServerFacts
        do {
            facts = try await serverFacts()
        } catch let failure as ManagementAPI.Failure {
            guard case .unreachable = failure else { throw BrokerError.unavailable(failure.description) }
            return try await amqpOnlySnapshot(time: now, because: failure)
        }
        let queues: [ManagementAPI.Queue]
        let bindings: [ManagementAPI.Binding]
        do {
            async let q = api.queues()
            async let b = api.bindings()
            (queues, bindings) = try await (q, b)
        } catch let failure as ManagementAPI.Failure {
            throw BrokerError.unavailable(failure.description)
        }
        // Who consumes, with prefetch: for the drill-in. Its failure costs only that list, not the snapshot.
        let consumers = try? await api.consumers()
        let kinds = Dictionary(queues.map { q in (q.name, Self.kind(of: q, serverMajorVersion: facts.majorVersion)) }, uniquingKeysWith: { a, _ in a })
        queueKinds.withLock { $0 = kinds }
        return Self.snapshot(time: now, queues: queues, bindings: bindings, consumers: consumers, keepsStatistics: facts.keepsStatistics)
    }

    /// The snapshot a set of management API answers make: pure, so it is tested without a server.
    static func snapshot(time: Date, queues: [ManagementAPI.Queue], bindings: [ManagementAPI.Binding],
                         consumers: [ManagementAPI.Consumer]? = nil, keepsStatistics: Bool) -> BrokerSnapshot {
        let dlqs = deadLetterQueues(queues: queues, bindings: bindings)
        let bindingsByQueue = Dictionary(grouping: bindings.filter { $0.destination_type == "queue" && !$0.source.isEmpty },
                                         by: \.destination)
        let consumersByQueue = consumers.map { Dictionary(grouping: $0, by: \.queue.name) }
        var topics: [TopicInfo] = []
        var groups: [ConsumerGroup] = []
        // Taps (evtop's own exclusive copies for sagas, of this or another evtop) are no part of the flow.
        for q in queues.sorted(by: { $0.name < $1.name }) where !q.name.hasPrefix(RabbitMQTap.queuePrefix) {
            let ready = q.messages_ready, unacked = q.messages_unacknowledged
            let depth = q.messages ?? ready.flatMap { r in unacked.map { r + $0 } } ?? 0
            let stats = q.message_stats
            // Without message_stats a queue has seen no traffic, unless the server keeps no statistics at all.
            let published = stats?.publish ?? (keepsStatistics ? 0 : nil)
            let acknowledged: Int64? = keepsStatistics
                ? (stats?.ack ?? 0).addingSaturating(stats?.deliver_no_ack ?? 0).addingSaturating(stats?.get_no_ack ?? 0) : nil
            let facts = QueueFacts(
                type: q.type, state: q.state, durable: q.durable, ready: ready, unacknowledged: unacked,
                consumerCount: q.consumers, utilisation: q.consumer_utilisation,
                delivered: keepsStatistics ? (stats?.deliver_get ?? 0) : nil, acknowledged: acknowledged,
                arguments: (q.arguments ?? [:]).queueArguments,
                bindings: (bindingsByQueue[q.name] ?? []).map(\.queueBinding).sorted(),
                consumers: consumersByQueue.map { ($0[q.name] ?? []).map(\.queueConsumer).sorted { $0.tag < $1.tag } })
            topics.append(TopicInfo(name: q.name, partitions: [PartitionWatermarks(partition: 0, depth: depth, published: published)],
                                    queue: facts))
            guard !dlqs.contains(q.name) else { continue }
            let lag = ReportedLag(pending: q.messages ?? ready.flatMap { r in unacked.map { r + $0 } }, acknowledged: acknowledged,
                                  inFlight: unacked, oldestPendingMillis: q.head_message_timestamp.map { $0.multipliedReportingOverflow(by: 1000).partialValue })
            groups.append(ConsumerGroup(id: q.name, state: q.state ?? "unknown", members: q.consumers ?? 0, offsets: [:],
                                        reported: [TopicPartition(q.name, 0): lag]))
        }
        return BrokerSnapshot(time: time, topics: topics, groups: groups, deadLetterTopics: dlqs,
                              limitation: keepsStatistics ? nil : "the server keeps no message statistics (rates_mode none): rates and STALL unknown")
    }

    /// Queues that receive dead letters: bound to an exchange some queue names in `x-dead-letter-exchange`
    /// (with its `x-dead-letter-routing-key`, if any), or, for the default exchange, named by that routing key.
    static func deadLetterQueues(queues: [ManagementAPI.Queue], bindings: [ManagementAPI.Binding]) -> Set<String> {
        var out: Set<String> = []
        let names = Set(queues.map(\.name))
        for q in queues {
            guard let exchange = q.arguments?["x-dead-letter-exchange"]?.string else { continue }
            let routingKey = q.arguments?["x-dead-letter-routing-key"]?.string
            if exchange.isEmpty {  // the default exchange routes by queue name
                if let routingKey, names.contains(routingKey) { out.insert(routingKey) }
                continue
            }
            for b in bindings where b.source == exchange && b.destination_type == "queue" && b.destination != q.name {
                // A binding whose key cannot match the letters' routing key is another flow's queue; fanout
                // and headers exchanges ignore keys, so keep those. Keys with wildcards are kept too.
                if let routingKey, !b.routing_key.isEmpty, b.routing_key != routingKey,
                   !b.routing_key.contains("#"), !b.routing_key.contains("*") { continue }
                out.insert(b.destination)
            }
        }
        return out
    }

    /// Reads `maxRecords` messages from browse ordinal `position` (0 = the head): takes the first
    /// `position + maxRecords` messages without acknowledging them and returns them all at once, so
    /// nothing is lost or reordered; each comes back marked redelivered, as any browse over AMQP leaves
    /// it. Ordinals are counted at the moment of reading: consumers taking messages shift them.
    public func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws
        -> (records: [Record], next: LogPosition) {
        guard partition == 0 else { throw BrokerError.unknownPartition(topic, partition) }
        let start = max(0, position)
        guard maxRecords > 0 else { return ([], start) }
        let settings = self.settings, properties = self.properties
        let end = Int(min(Int64(Self.maxBrowse), start.addingSaturating(Int64(maxRecords))))
        // A classic queue puts a returned message back in its place. Any other (a quorum queue puts it at
        // the back) keeps its order only if the browse takes it whole and returns it whole.
        let kind = await queueKind(topic)
        if kind.type == "quorum" && kind.limitsDeliveries {
            throw BrokerError.unsupported("'\(topic)' is a quorum queue with a delivery limit: every browse returns its messages, "
                                          + "which counts as a delivery, so browsing would in time dead-letter them; evtop does not browse it")
        }
        let whole = kind.type != "classic"
        let wanted = whole ? Self.maxBrowse : end
        let deliveries: [AMQPDelivery] = try await onAMQP {
            let connection = try AMQPConnection(settings: settings, properties: properties)
            var taken: [AMQPDelivery] = []
            defer { try? connection.returnAll() }
            var exhausted = false
            while taken.count < wanted {
                let batch = try connection.takeMany(queue: topic, count: min(Self.browseBatch, wanted - taken.count), keepingContent: false)
                for (d, _) in batch {
                    // Only what is shown is kept; the rest is held unacknowledged, not copied.
                    taken.append(taken.count >= Int(start) && taken.count < end ? d : AMQPDelivery.placeholder)
                }
                if batch.isEmpty { exhausted = true; break }
            }
            if whole && !exhausted {
                throw BrokerError.unsupported("'\(topic)' holds more than \(Self.maxBrowse) messages and is not a classic queue: "
                                              + "browsing it would put what it took behind the rest, so evtop does not")
            }
            return Array(taken.prefix(end))
        }
        let shown = deliveries.dropFirst(Int(min(start, Int64(deliveries.count))))
        var records: [Record] = []
        records.reserveCapacity(shown.count)
        for (i, d) in shown.enumerated() { records.append(Self.record(d, topic: topic, ordinal: start + Int64(i))) }
        return (records, start + Int64(records.count))
    }

    /// A queue's kind as the management API gives it; a server that names no type (before 3.8) has only classic queues.
    static func kind(of q: ManagementAPI.Queue, serverMajorVersion: Int?) -> QueueKind {
        let type = q.type ?? "classic"
        let limit = q.arguments?["x-delivery-limit"] != nil || (type == "quorum" && (serverMajorVersion ?? 0) >= 4)
        return QueueKind(type: type, limitsDeliveries: limit)
    }

    /// The queue's kind from the last snapshot, else asked of the management API. When it cannot say (no
    /// management API), the type is nil, the browse takes the queue whole as the safe way, and the API is
    /// not asked again for 30 s: a browse must not wait out an HTTP timeout every time.
    func queueKind(_ queue: String) async -> QueueKind {
        if let known = queueKinds.withLock({ $0[queue] }), known.retryAfter.map({ Date() < $0 }) ?? true { return known }
        let major = (try? await serverFacts())?.majorVersion
        guard let q = try? await api.get("queues/\(api.vhostSegment)/\(ManagementAPI.segment(queue))?columns=name,type,arguments",
                                         as: ManagementAPI.Queue.self) else {
            let unknown = QueueKind(type: nil, limitsDeliveries: false, retryAfter: Date().addingTimeInterval(30))
            queueKinds.withLock { $0[queue] = unknown }
            return unknown
        }
        let found = Self.kind(of: q, serverMajorVersion: major)
        queueKinds.withLock { $0[queue] = found }
        return found
    }

    /// Browsing holds every message it passes unacknowledged until it returns them: bounded.
    static let maxBrowse = 200_000
    /// `basic.get`s sent before their answers are read: one round trip per batch, not per message.
    static let browseBatch = 250

    /// `rabbitmq-CLUSTER-VHOST` from the management API, else `rabbitmq-HOST-PORT-VHOST`.
    public func identity() async -> SourceIdentity? {
        let cluster = (try? await serverFacts())?.clusterName
        let vhost = settings.vhost == "/" ? "default" : settings.vhost
        return SourceIdentity(stem: "rabbitmq-" + (cluster ?? "\(settings.host)-\(settings.port)") + "-" + vhost)
    }

    // MARK: Pieces

    func serverFacts() async throws -> ServerFacts {
        if let known = facts.withLock({ $0 }) { return known }
        let overview = try await api.overview()
        try await api.checkVhost()
        let rates = try? await api.get("overview?columns=rates_mode", as: [String: String].self)["rates_mode"]
        let major = overview.rabbitmq_version.flatMap { Int($0.prefix { $0.isNumber }) }
        let found = ServerFacts(clusterName: overview.cluster_name, keepsStatistics: rates != "none", majorVersion: major)
        facts.withLock { $0 = found }
        return found
    }

    /// Without the management API: each queue named in the settings, by a passive declare over AMQP.
    private func amqpOnlySnapshot(time: Date, because failure: ManagementAPI.Failure) async throws -> BrokerSnapshot {
        let names = settings.knownQueues
        let settings = self.settings, properties = self.properties
        let found: [(String, Int64, Int)] = try await onAMQP {
            var out: [(String, Int64, Int)] = []
            var connection = try AMQPConnection(settings: settings, properties: properties)
            for name in names {
                if let q = try connection.declarePassive(queue: name) {
                    out.append((name, q.ready, q.consumers))
                } else {
                    connection = try AMQPConnection(settings: settings, properties: properties)  // a 404 closes the channel
                }
            }
            return out
        }
        let topics = found.map { TopicInfo(name: $0.0, partitions: [PartitionWatermarks(partition: 0, depth: $0.1)]) }
        // Ready messages only (AMQP does not count unacknowledged ones) and no ack counter: lag is a lower bound
        // and STALL cannot be told, so the groups carry no progress figure.
        let groups = found.map { q in
            ConsumerGroup(id: q.0, state: "running", members: q.2, offsets: [:],
                          reported: [TopicPartition(q.0, 0): ReportedLag(pending: nil, inFlight: nil)])
        }
        let named = names.isEmpty ? "name queues with --group to see their depth over AMQP" : "\(found.count) of \(names.count) named queues over AMQP, ready messages only"
        return BrokerSnapshot(time: time, topics: topics, groups: groups,
                              limitation: "no management API (\(failure)): \(named); no rates, no lag, no dead-letter topology")
    }

    /// Runs blocking librabbitmq work on the AMQP queue, off the cooperative pool.
    private func onAMQP<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            amqpQueue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// A message as a record: the routing key is its key; properties become `amqp.NAME` headers before the
    /// message's own headers (tables such as `x-death` as JSON); its time is the `timestamp` property, else
    /// when it was last dead-lettered, else unknown (-1).
    static func record(_ d: AMQPDelivery, topic: String, ordinal: Int64) -> Record {
        var headers = d.properties.map { RecordHeader(name: "amqp." + $0.0, value: $0.1.headerBytes) }
        headers.append(RecordHeader(name: "amqp.exchange", value: Array(d.exchange.utf8)))
        if d.redelivered { headers.append(RecordHeader("amqp.redelivered", "true")) }
        headers += d.headers.map { RecordHeader(name: $0.0, value: $0.1.headerBytes) }
        var millis: Int64 = -1
        if let s = d.timestampSeconds, s < UInt64(Int64.max / 1000) { millis = Int64(s) * 1000 }
        else if let death = d.headers.first(where: { $0.0 == "x-death" })?.1, case .array(let entries) = death,
                case .table(let first)? = entries.first, case .timestamp(let t)? = first.first(where: { $0.0 == "time" })?.1,
                t < UInt64(Int64.max / 1000) {
            millis = Int64(t) * 1000
        }
        return Record(topic: topic, partition: 0, offset: ordinal, timestampMillis: millis, key: d.routingKey, headers: headers, value: d.body)
    }
}

extension AMQPDelivery {
    /// Stands for a message browsed past and not shown.
    static let placeholder = AMQPDelivery(deliveryTag: 0, redelivered: false, exchange: "", routingKey: [], remaining: 0,
                                          properties: [], timestampSeconds: nil, headers: [], body: [])
}
