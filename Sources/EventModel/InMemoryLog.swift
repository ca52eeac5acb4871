import Foundation

/// A complete in-memory log (reader, writer and demo setup) with Kafka semantics, for tests and demos.
///
/// Topics have numbered partitions; each partition is an append-only list of records whose
/// offsets start at the low watermark and end just below the high watermark. Keyed records are
/// placed with `KeyPartitioner`, keyless ones round robin per topic, unless a partition is given.
/// Consumer groups keep committed offsets, commit times and members; a member is live while it
/// committed or heartbeated within `sessionTimeout` of the injected clock. No I/O.
public actor InMemoryLog: LogReader, LogWriter, DemoSetup {
    private struct PartitionState {
        var low: Int64 = 0
        var records: [Record] = []
        var high: Int64 { low + Int64(records.count) }
    }

    private struct TopicState {
        var partitions: [PartitionState]
        var nextRoundRobin: Int32 = 0
    }

    private struct GroupState {
        var offsets: [TopicPartition: Int64] = [:]
        var commitTimesMillis: [TopicPartition: Int64] = [:]
        var lastSeen: [String: Date] = [:]
    }

    /// The source as shown to the user, e.g. `memory:`.
    public nonisolated let sourceDescription: String
    /// Offsets are given one a record, and nothing removes records.
    public nonisolated var positionsHoldRecords: Bool { true }
    /// How long a member stays live after its last commit or heartbeat, in seconds.
    public nonisolated let sessionTimeout: TimeInterval

    private let now: @Sendable () -> Date
    private var topics: [String: TopicState] = [:]
    private var groups: [String: GroupState] = [:]

    /// Creates an empty log.
    /// - Parameters:
    ///   - sourceDescription: how the source is named in the UI.
    ///   - sessionTimeout: member liveness window in seconds (Kafka's `session.timeout.ms`), 10 s by default.
    ///   - now: the clock used for commit times, member liveness and snapshot times.
    public init(sourceDescription: String = "memory:",
                sessionTimeout: TimeInterval = 10,
                now: @Sendable @escaping () -> Date = Date.init) {
        self.sourceDescription = sourceDescription
        self.sessionTimeout = sessionTimeout
        self.now = now
    }

    // MARK: Reading, writing, demo setup

    /// Deduplicated by construction: one actor appends each record once.
    public nonisolated var producesIdempotently: Bool { true }

    /// `memory` and the description: an in-memory log has no files of its own.
    public nonisolated func identity() async -> SourceIdentity? { SourceIdentity(stem: "memory-" + sourceDescription) }


    /// Topics with watermarks and groups with offsets, sorted; O(partitions + members).
    public func snapshot() async throws -> BrokerSnapshot {
        let time = now()
        let topicInfos = topics.keys.sorted().compactMap { name -> TopicInfo? in
            guard let topic = topics[name] else { return nil }
            let parts = topic.partitions.enumerated().map { index, p in
                PartitionWatermarks(partition: Int32(index), low: p.low, high: p.high)
            }
            return TopicInfo(name: name, partitions: parts)
        }
        let groupInfos = groups.keys.sorted().compactMap { id -> ConsumerGroup? in
            guard let g = groups[id] else { return nil }
            let live = liveMembers(of: g, at: time)
            return ConsumerGroup(id: id, state: live > 0 ? "Stable" : "Empty", members: live,
                                 offsets: g.offsets, commitTimesMillis: g.commitTimesMillis)
        }
        return BrokerSnapshot(time: time, topics: topicInfos, groups: groupInfos)
    }

    /// Creates a topic with `partitions` partitions; an existing topic keeps its partitions.
    /// Throws `BrokerError.writeRefused` when `partitions` < 1 or the name is empty.
    public func createTopic(_ name: String, partitions: Int32) async throws {
        guard !name.isEmpty else { throw BrokerError.writeRefused("topic name must not be empty") }
        guard partitions >= 1 else {
            throw BrokerError.writeRefused("topic '\(name)' needs at least one partition, got \(partitions)")
        }
        if topics[name] != nil { return }
        topics[name] = TopicState(partitions: Array(repeating: PartitionState(), count: Int(partitions)))
    }

    /// Appends all records or none: every target is validated before the first append.
    @discardableResult
    public func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] {
        // Validate first so a bad record leaves the log untouched (atomic batch).
        for r in records {
            guard let topic = topics[r.topic] else { throw BrokerError.unknownTopic(r.topic) }
            if let p = r.partition, p < 0 || Int(p) >= topic.partitions.count {
                throw BrokerError.unknownPartition(r.topic, p)
            }
        }
        var positions: [RecordPosition] = []
        positions.reserveCapacity(records.count)
        for r in records {
            guard var topic = topics[r.topic] else { throw BrokerError.unknownTopic(r.topic) }
            let count = Int32(topic.partitions.count)
            let partition: Int32
            if let p = r.partition {
                partition = p
            } else if let key = r.key {
                partition = KeyPartitioner.partition(for: key, count: count)
            } else {
                partition = topic.nextRoundRobin % count
                topic.nextRoundRobin = (topic.nextRoundRobin + 1) % count
            }
            let offset = topic.partitions[Int(partition)].high
            topic.partitions[Int(partition)].records.append(
                Record(topic: r.topic, partition: partition, offset: offset, timestampMillis: r.timestampMillis,
                       key: r.key, headers: r.headers, value: r.value))
            topics[r.topic] = topic
            positions.append(RecordPosition(topic: r.topic, partition: partition, offset: offset))
        }
        return positions
    }

    /// Reads up to `maxRecords` from `offset`; an offset below the low watermark reads from the
    /// low watermark, one at or past the high watermark reads nothing.
    public func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        let p = try partitionState(topic, partition)
        guard maxRecords > 0 else { return ([], offset) }
        let start = max(offset, p.low)
        guard start < p.high else { return ([], offset) }
        let from = Int(start - p.low)
        let to = min(p.records.count, from + maxRecords)
        let records = Array(p.records[from..<to])
        return (records, records.last.map { $0.offset + 1 } ?? offset)
    }

    /// Commits offsets (validated against existing topics and partitions), stamps commit times
    /// with the clock, and marks the member alive.
    public func commit(group: String, member: String, offsets: [TopicPartition: Int64]) async throws {
        for tp in offsets.keys { _ = try partitionState(tp.topic, tp.partition) }
        let time = now()
        let millis = Self.millis(time)
        var g = groups[group] ?? GroupState()
        for (tp, offset) in offsets {
            g.offsets[tp] = offset
            g.commitTimesMillis[tp] = millis
        }
        g.lastSeen[member] = time
        groups[group] = g
    }

    /// Marks the member alive; creates the group if it is new (the same as committing nothing).
    public func heartbeat(group: String, member: String) async throws {
        var g = groups[group] ?? GroupState()
        g.lastSeen[member] = now()
        groups[group] = g
    }

    // MARK: Extras for tests and tools

    /// Every retained record of a topic, partition by partition in offset order.
    public func records(in topic: String) throws -> [Record] {
        guard let t = topics[topic] else { throw BrokerError.unknownTopic(topic) }
        return t.partitions.flatMap(\.records)
    }

    /// Deletes records below `offset` (as Kafka retention or `DeleteRecords` does), raising the low watermark.
    public func deleteRecords(topic: String, partition: Int32, before offset: Int64) throws {
        var p = try partitionState(topic, partition)
        let cut = min(max(offset, p.low), p.high)
        p.records.removeFirst(Int(cut - p.low))
        p.low = cut
        topics[topic]?.partitions[Int(partition)] = p
    }

    /// Names of the group's members that are currently live, sorted.
    public func liveMemberIDs(group: String) -> [String] {
        guard let g = groups[group] else { return [] }
        let time = now()
        return g.lastSeen.filter { time.timeIntervalSince($0.value) <= sessionTimeout }.keys.sorted()
    }

    // MARK: Private

    private func partitionState(_ topic: String, _ partition: Int32) throws -> PartitionState {
        guard let t = topics[topic] else { throw BrokerError.unknownTopic(topic) }
        guard partition >= 0, Int(partition) < t.partitions.count else {
            throw BrokerError.unknownPartition(topic, partition)
        }
        return t.partitions[Int(partition)]
    }

    private func liveMembers(of g: GroupState, at time: Date) -> Int {
        g.lastSeen.values.reduce(0) { $0 + (time.timeIntervalSince($1) <= sessionTimeout ? 1 : 0) }
    }

    private static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
