import Foundation
import EventModel
import CRdKafka

/// A log reader, writer and demo setup over a Kafka cluster through librdkafka.
///
/// One idempotent producer (acks=all) also serves metadata, watermarks and admin requests; a
/// browse consumer reads with assign() only (never subscribe, never commit, a unique unused group
/// id); `commit(group:...)` uses one consumer per group, for evtop's own demo services.
public final class KafkaLog: LogReader, LogWriter, DemoSetup, @unchecked Sendable {
    // @unchecked: librdkafka handles are thread-safe; every mutable Swift field is behind a lock.

    /// The settings the log was opened with (properties may hold secrets: never print them).
    public let settings: KafkaSettings
    /// The producer handle, also used for metadata, offsets and admin requests.
    let producer: KafkaHandle
    let watermarkCache = Locked<[TopicPartition: (low: Int64, high: Int64)]>([:])
    /// What the cluster turned out not to support (remembered for the session).
    let groupAPIs = Locked<(listing: Bool, describing: Bool, noController: Bool)>((true, true, false))
    /// The groups of the last snapshot in which every leader answered: shown again while some
    /// broker is down instead of asking the admin API (see `snapshot()`).
    let lastGroups = Locked<[ConsumerGroup]?>(nil)
    /// The cluster id, once a metadata response carried it.
    private let knownClusterID = Locked<String?>(nil)
    /// Every broker id any metadata response of this session listed.
    let knownBrokers = Locked<Set<Int32>>([])
    private let browse = Locked<KafkaFetcher?>(nil)
    private let bulk = Locked<KafkaBulkReader?>(nil)
    private let committers = Locked<[String: KafkaHandle]>([:])

    /// The source as the user named it, never with secrets.
    public var sourceDescription: String { settings.description }

    /// Opens a client; nothing is sent until the first request (librdkafka connects in the background).
    public init(settings: KafkaSettings) throws {
        guard !settings.bootstrap.isEmpty else { throw BrokerError.badURL("kafka://", reason: "no bootstrap servers") }
        self.settings = settings
        do {
            let conf = try KafkaConf.make(settings, defaults: [
                "client.id": "evtop",
                "partitioner": "murmur2_random", // keys land where the Java clients put them
                // produce() waits for its delivery reports: send at once (records queued meanwhile still batch).
                "linger.ms": "0",
                "socket.connection.setup.timeout.ms": "5000",
                // One request in flight per broker: a retried batch can never be overtaken by the next one.
                // (librdkafka's mock cluster accepts an overtaking batch and then calls the retry a duplicate,
                // losing it; real brokers refuse the gap, but evtop's redrive should not lean on that.)
                "max.in.flight.requests.per.connection": "1",
            ], overrides: [
                "enable.idempotence": "true",
                "acks": "all",
            ])
            producer = try KafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf, pollThread: true,
                                       deliveryReport: deliveryReportCallback)
        } catch let error as KafkaError {
            throw BrokerError.badURL(settings.description, reason: error.description)
        }
    }

    // MARK: Reading, writing, demo setup

    /// Metadata, watermarks (batched per broker), consumer groups with committed offsets, and which brokers answered.
    public func snapshot() async throws -> BrokerSnapshot {
        try await Blocking.run { [self] in
            let meta = try metadata()
            let (topics, silentLeaders) = watermarksAndSilentLeaders(for: (meta.topics, meta.brokers))
            var availability = knownBrokers.withLock { known in
                defer { known.formUnion(meta.brokerIDs) }
                return Self.availability(known: known, listed: meta.brokerIDs, silentLeaders: silentLeaders)
            }
            // The controller id came with the metadata just fetched (0 ms reads librdkafka's cached value);
            // an id the metadata does not list (librdkafka's mock cluster says 0) is not a broker to show.
            availability.controller = meta.controller.flatMap { meta.brokerIDs.contains($0) ? $0 : nil }
            // Only a silent leader holds requests until they time out; a broker gone from the metadata is not asked.
            let silent = silentLeaders
            // While a broker is down, the group figures of the last full snapshot stand (their
            // commit ages grow) and no admin request is made: librdkafka 2.0.2 can abort
            // (rd_kafka_enq_once_del_source_return: eonce->refcnt > 0) when admin requests time
            // out around a broker coming back, which an outage makes likely. Reproduced on the
            // mock cluster by taking brokers down and up under a 0.5 s refresh.
            let groups: [ConsumerGroup]
            if !silent.isEmpty, let last = lastGroups.withLock({ $0 }) {
                groups = last
            } else if !silent.isEmpty {
                groups = []
            } else {
                groups = try consumerGroups(topics: topics)
                lastGroups.withLock { $0 = groups }
            }
            return BrokerSnapshot(time: Date(), topics: topics, groups: groups, brokers: availability)
        }
    }

    /// The cluster's id (KIP-78), cached once known: what evtop's local files for this cluster are named
    /// after, so that two clusters reached at the same address (a test cluster rebuilt in place) never
    /// share a redrive journal or a correlation index. Nil when no broker answers within `timeoutMillis`
    /// (at most the settings' request timeout),
    /// or for brokers older than 0.10.1, which have none.
    public func clusterID(timeoutMillis: Int32) async -> String? {
        if let known = knownClusterID.withLock({ $0 }) { return known }
        let found: String?? = try? await Blocking.run { [self] in
            guard let raw = rd_kafka_clusterid(producer.rk, min(timeoutMillis, settings.timeoutMillis)) else { return nil }
            defer { rd_kafka_mem_free(producer.rk, raw) }
            let id = String(cString: raw)
            guard !id.isEmpty else { return nil }
            knownClusterID.withLock { $0 = id }
            return id
        }
        return found ?? nil
    }

    /// Creates a topic through the admin API (replication min(3, brokers)); an existing topic is kept.
    public func createTopic(_ name: String, partitions: Int32) async throws {
        try await Blocking.run { [self] in try createTopicBlocking(name, partitions: partitions) }
    }

    /// Produces on the idempotent producer (acks=all) and waits for every delivery report.
    /// Order holds per partition; Kafka without transactions makes no promise across partitions.
    @discardableResult
    public func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] {
        guard !records.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(records, continuation: continuation)
        }
    }

    /// Reads up to `maxRecords` records of one partition from `offset` with the browse consumer.
    public func fetch(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> [Record] {
        guard maxRecords > 0 else { return [] }
        let fetcher = try browseFetcher()
        return try await fetcher.fetch(topic: topic, partition: partition, from: offset, maxRecords: maxRecords)
    }

    /// ``fetch(topic:partition:from:maxRecords:)`` plus where to read next, past transaction markers at the end.
    public func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        guard maxRecords > 0 else { return ([], offset) }
        return try await browseFetcher().read(topic: topic, partition: partition, from: offset, maxRecords: maxRecords)
    }

    /// Commits offsets for `group` with a consumer of that group that never joins it (for evtop's demo services).
    public func commit(group: String, member: String, offsets: [TopicPartition: Int64]) async throws {
        guard !offsets.isEmpty else { return }
        let handle = try committer(for: group)
        try await Blocking.run { [self] in
            let list = rd_kafka_topic_partition_list_new(Int32(clamping: offsets.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (tp, offset) in offsets {
                rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)?.pointee.offset = offset
            }
            let err = rd_kafka_commit(handle.rk, list, 0)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw BrokerError.unavailable("commit for group '\(group)' failed: \(err.text) (\(settings.description))")
            }
        }
    }

    /// The idempotent producer (enable.idempotence, acks=all) deduplicates retries.
    public var producesIdempotently: Bool { true }

    /// `kafka-CLUSTERID`: one identity per cluster, however its servers are spelled (`a,b`, `b,a`, `a`),
    /// and a new one for a cluster rebuilt at the same address. Nil while no broker says the id.
    public func identity() async -> SourceIdentity? {
        await clusterID(timeoutMillis: Self.identityTimeoutMillis).map { SourceIdentity(stem: "kafka-" + $0) }
    }

    /// How long ``identity()`` waits for the cluster to say its id.
    public static let identityTimeoutMillis: Int32 = 5000

    /// Reads many partitions at once (every partition fetched in parallel into one queue, one thread
    /// draining it): the correlation index's read. See ``LogReader/readRanges(_:body:)``.
    public func readRanges(_ ranges: [ReadRange], body: @escaping @Sendable (BulkBatch) throws -> Bool) async throws {
        try await bulkReader().read(ranges, body: body)
    }

    /// One topic's partitions with leaders and watermarks: one metadata request and two ListOffsets
    /// round trips for that topic only; `BrokerError.unknownTopic` when it does not exist.
    public func watermarks(topic: String) async throws -> TopicInfo {
        try await Blocking.run { [self] in
            let meta = try metadata()
            guard let t = meta.topics.first(where: { $0.name == topic }) else { throw BrokerError.unknownTopic(topic) }
            guard let info = watermarks(for: (topics: [t], brokers: meta.brokers)).first else { throw BrokerError.unknownTopic(topic) }
            return info
        }
    }

    /// Kafka's own time index (ListOffsets by timestamp, `rd_kafka_offsets_for_times`): the first offset
    /// whose timestamp is at or after `millis`, or `high` when there is none. A broker that does not
    /// answer is an error, never a guessed position.
    public func position(topic: String, partition: Int32, atMillis millis: Int64, low: Int64, high: Int64) async throws -> Int64 {
        let indexed = try await timeIndexPosition(topic: topic, partition: partition, atMillis: millis, low: low, high: high)
        guard indexed == nil, high > low else { return indexed ?? high }
        // "No record that new": believed only when the newest record is older. A broker without a time
        // index answers -1 for everything (librdkafka's mock cluster does; so does kcat -Q against it):
        // then the log is searched by halving, as for any source.
        let newest = try await read(topic: topic, partition: partition, from: high - 1, maxRecords: 1).records.first
        guard let newest, newest.timestampMillis >= millis else { return high }
        return try await searchPosition(topic: topic, partition: partition, atMillis: millis, low: low, high: high)
    }

    /// The broker's answer from its time index; nil when it says no record is that new.
    private func timeIndexPosition(topic: String, partition: Int32, atMillis millis: Int64, low: Int64, high: Int64) async throws -> Int64? {
        try await Blocking.run { [self] in
            guard let list = rd_kafka_topic_partition_list_new(1) else { throw BrokerError.unavailable("out of memory") }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = max(0, millis)
            let err = rd_kafka_offsets_for_times(producer.rk, list, settings.timeoutMillis)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let e = list.pointee.elems?.pointee, e.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let why = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : (list.pointee.elems?.pointee.err ?? err)
                throw BrokerError.unavailable("no offset for \(topic) p\(partition) at \(millis) ms: \(why.text) (\(settings.description))")
            }
            // -1: no record that new (see above).
            return e.offset < 0 ? nil : min(max(e.offset, low), high)
        }
    }

    // MARK: Handles

    func browseFetcher() throws -> KafkaFetcher {
        try browse.withLock { f in
            if let f { return f }
            let made = try KafkaFetcher(settings: settings, timeout: settings.timeoutMillis)
            f = made
            return made
        }
    }

    func bulkReader() throws -> KafkaBulkReader {
        try bulk.withLock { r in
            if let r { return r }
            let made = try KafkaBulkReader(settings: settings, timeout: settings.timeoutMillis)
            r = made
            return made
        }
    }

    private func committer(for group: String) throws -> KafkaHandle {
        try committers.withLock { map in
            if let h = map[group] { return h }
            do {
                let conf = try KafkaConf.make(settings, defaults: ["client.id": "evtop"], overrides: [
                    "group.id": group, "enable.auto.commit": "false", "enable.auto.offset.store": "false",
                ])
                let h = try KafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, pollThread: false)
                map[group] = h
                return h
            } catch let error as KafkaError {
                throw BrokerError.unavailable(error.description)
            }
        }
    }

    /// An operator's explanation of a failed request, with the transport error librdkafka saw.
    func unavailable(_ what: String, _ err: rd_kafka_resp_err_t) -> BrokerError {
        var text = "\(what) from \(settings.bootstrap.joined(separator: ",")): \(err.text)"
        if let last = producer.health.lastError { text += " (last error: \(last))" }
        return .unavailable(KafkaSecrets.scrub(text, properties: settings.properties))
    }
}
