import Foundation
import EventModel
import TerminalUI

/// One row of the topics table, derived from a snapshot and the meter.
public struct TopicRow: Sendable, Hashable {
    /// Topic name.
    public var name: String
    /// True when the topic is a dead-letter queue.
    public var isDeadLetter: Bool
    /// Partition count.
    public var partitions: Int
    /// Records retained across partitions.
    public var total: Int64
    /// Produce rates.
    public var rates: ThroughputMeter.Rates
    /// Consumer groups with committed offsets on the topic.
    public var groups: Int
    /// What a queue broker says about the queue (RabbitMQ); nil for a log's topic.
    public var queue: QueueFacts? = nil
    /// A queue's delivery and acknowledgement rates; unknown for a log's topic.
    public var queueRates = ThroughputMeter.QueueRates()
}

/// One row of the partitions table.
public struct PartitionRow: Sendable, Hashable {
    /// Partition number.
    public var partition: Int32
    /// Low and high watermark.
    public var watermarks: PartitionWatermarks
    /// Produce rates.
    public var rates: ThroughputMeter.Rates
    /// Lag of each group reading the partition, sorted by lag descending.
    public var groupLags: [(group: String, lag: Int64)]

    public static func == (a: PartitionRow, b: PartitionRow) -> Bool {
        a.partition == b.partition && a.watermarks == b.watermarks && a.rates == b.rates
            && a.groupLags.map(\.group) == b.groupLags.map(\.group) && a.groupLags.map(\.lag) == b.groupLags.map(\.lag)
    }

    public func hash(into h: inout Hasher) { h.combine(partition); h.combine(watermarks) }
}

/// A compiled row filter: case-insensitive regex, `!` prefix inverts; an invalid regex
/// falls back to a plain substring match so typing never breaks the view.
public struct RowFilter {
    private let regex: Regex<AnyRegexOutput>?
    private let needle: String
    private let inverted: Bool
    /// True when the pattern is not a valid regex (matched as plain text instead).
    public let isPlainText: Bool

    /// Compiles `pattern` ("" matches everything).
    public init(_ pattern: String) {
        var p = pattern
        inverted = p.hasPrefix("!")
        if inverted { p.removeFirst() }
        needle = p.lowercased()
        if p.isEmpty {
            regex = nil
            isPlainText = false
        } else if let r = try? Regex(p) {
            regex = r.ignoresCase()
            isPlainText = false
        } else {
            regex = nil
            isPlainText = true
        }
    }

    /// True when `text` passes the filter.
    public func matches(_ text: String) -> Bool {
        if needle.isEmpty { return true }
        let hit: Bool
        if let regex {
            hit = (try? regex.firstMatch(in: text)) != nil
        } else {
            hit = text.lowercased().contains(needle)
        }
        return hit != inverted
    }
}

/// Topic rows derived once per change of their inputs, so that frames drawn between
/// snapshots (keys, ticks) cost O(visible rows), not O(topics).
public struct TopicRowsCache: Sendable {
    /// Everything the rows depend on.
    struct Key: Hashable, Sendable {
        var time: Date?
        var filter: String
        var sort: TopicSortKey
        var descending: Bool
        var patterns: [String]
        var detected: Set<String>
    }
    var key: Key?
    /// Whether each topic name is a dead-letter queue: glob matching once per name, not per tick.
    var deadLetterFlags: [String: Bool] = [:]
    var flagPatterns: [String] = []
    var flagDetected: Set<String> = []
    /// Rows in display order.
    var rows: [TopicRow] = []
    /// Where each row is in ``rows``, by topic name: a frame finds the highlighted row without a scan.
    var rowIndex: [String: Int] = [:]
    /// Where each topic is in the snapshot's topics, by name (the partitions pane and view look one up).
    var topicIndex: [String: Int] = [:]
    /// The snapshot's groups (their positions) that have offsets in each topic: a partitions frame reads
    /// the lag of those groups only.
    var groupsByTopic: [String: [Int]] = [:]
    /// Records retained on dead-letter topics.
    var deadLetterCount: Int64 = 0

    /// An empty cache.
    public init() {}
}

/// Pure derivations of table rows from state: the same code serves screens, keys and the CLI.
public enum TopicsModel {
    static func cacheKey(_ state: AppState) -> TopicRowsCache.Key {
        TopicRowsCache.Key(time: state.snapshot?.time, filter: state.filters[ViewID.topics.name] ?? "",
                           sort: state.topicSort, descending: state.topicSortDescending,
                           patterns: state.deadLetterTopics.patterns, detected: state.deadLetterTopics.detectedByHeaders.union(state.deadLetterTopics.declaredByBroker))
    }

    /// Brings the cache up to date with the state (a no-op when nothing it depends on changed).
    public static func refreshCache(_ state: inout AppState) {
        let key = cacheKey(state)
        guard state.topicRowsCache.key != key else { return }
        var cache = state.topicRowsCache
        state.topicRowsCache = TopicRowsCache() // drop our reference so the flags mutate in place
        if cache.flagPatterns != key.patterns || cache.flagDetected != key.detected {
            cache.deadLetterFlags = [:]
            cache.flagPatterns = key.patterns
            cache.flagDetected = key.detected
        }
        // The per-snapshot maps first (a new filter or sort keeps them): the rows' group counts come from them.
        if cache.key?.time != key.time || cache.topicIndex.isEmpty {
            let topics = state.snapshot?.topics ?? []
            cache.topicIndex = Dictionary(topics.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
            cache.groupsByTopic = groupsByTopic(state.snapshot?.groups ?? [])
        }
        let derived = derive(state, flags: &cache.deadLetterFlags, groupsPerTopic: cache.groupsByTopic.mapValues(\.count))
        cache.rows = derived.rows
        cache.deadLetterCount = derived.deadLetters
        cache.rowIndex = Dictionary(derived.rows.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        cache.key = key
        state.topicRowsCache = cache
    }

    /// The rows from the cache when it is current, else computed afresh.
    public static func cachedRows(_ state: AppState) -> [TopicRow] {
        state.topicRowsCache.key == cacheKey(state) ? state.topicRowsCache.rows : rows(state)
    }

    /// The position of the row of topic `name` among the rows shown, nil when it is not one of them.
    public static func rowIndex(_ state: AppState, name: String) -> Int? {
        if state.topicRowsCache.key == cacheKey(state) { return state.topicRowsCache.rowIndex[name] }
        return rows(state).firstIndex { $0.name == name }
    }

    /// The highlighted topic row (the first when none is), nil for an empty table.
    public static func highlightedRow(_ state: AppState) -> TopicRow? {
        let rows = cachedRows(state)
        guard !rows.isEmpty else { return nil }
        let i = state.topicsCursor.selectedKey.flatMap { rowIndex(state, name: $0) } ?? 0
        return rows.indices.contains(i) ? rows[i] : rows[0]
    }

    /// True when the cache's per-snapshot maps (``TopicRowsCache/topicIndex``, ``TopicRowsCache/groupsByTopic``)
    /// were built from the snapshot the state holds.
    static func indexesCurrent(_ state: AppState) -> Bool {
        state.snapshot != nil && state.topicRowsCache.key?.time == state.snapshot?.time
    }

    /// Topic `name` as the snapshot has it.
    public static func topicInfo(_ state: AppState, name: String) -> TopicInfo? {
        guard let topics = state.snapshot?.topics else { return nil }
        if indexesCurrent(state), let i = state.topicRowsCache.topicIndex[name], topics.indices.contains(i), topics[i].name == name {
            return topics[i]
        }
        return topics.first { $0.name == name }
    }

    /// Dead letters from the cache when it is current, else counted afresh.
    public static func cachedDeadLetterCount(_ state: AppState) -> Int64 {
        state.topicRowsCache.key == cacheKey(state) ? state.topicRowsCache.deadLetterCount : deadLetterCount(state)
    }

    /// Topic rows, filtered by the topics filter and sorted by the chosen column (ties by name).
    public static func rows(_ state: AppState) -> [TopicRow] {
        var flags: [String: Bool] = [:]
        return derive(state, flags: &flags).rows
    }

    /// One pass over the topics: rows that pass the filter, and the dead letters of all topics.
    static func derive(_ state: AppState, flags: inout [String: Bool],
                       groupsPerTopic given: [String: Int]? = nil) -> (rows: [TopicRow], deadLetters: Int64) {
        guard let snapshot = state.snapshot else { return ([], 0) }
        let groupsPerTopic = given ?? groupCounts(snapshot.groups)
        let pattern = state.filters[ViewID.topics.name] ?? ""
        let filter = RowFilter(pattern)
        var rows: [TopicRow] = []
        rows.reserveCapacity(snapshot.topics.count)
        var deadLetters: Int64 = 0
        for topic in snapshot.topics {
            let isDead: Bool
            if let known = flags[topic.name] {
                isDead = known
            } else {
                isDead = state.deadLetterTopics.isDeadLetterTopic(topic.name)
                flags[topic.name] = isDead
            }
            if isDead { deadLetters += topic.retained }
            guard pattern.isEmpty || filter.matches(topic.name) else { continue }
            rows.append(TopicRow(
                name: topic.name,
                isDeadLetter: isDead,
                partitions: topic.partitions.count,
                total: topic.retained,
                rates: state.meter.rates(topic: topic.name),
                groups: groupsPerTopic[topic.name] ?? 0,
                queue: topic.queue,
                queueRates: topic.queue == nil ? ThroughputMeter.QueueRates() : state.meter.queueRates(topic: topic.name)))
        }
        return (sorted(rows, by: state.topicSort, descending: state.topicSortDescending), deadLetters)
    }

    /// Topic rows sorted by a column.
    public static func sorted(_ rows: [TopicRow], by key: TopicSortKey, descending: Bool) -> [TopicRow] {
        func value(_ r: TopicRow) -> Double {
            switch key {
            case .name: return 0
            case .partitions: return Double(r.partitions)
            case .total: return Double(r.total)
            case .rate1: return r.rates.perSecond1 ?? -1
            case .rate10: return r.rates.perSecond10 ?? -1
            case .rate60: return r.rates.perSecond60 ?? -1
            case .groups: return Double(r.queue.map { $0.consumerCount ?? -1 } ?? r.groups)
            }
        }
        // Sort indices by precomputed keys: rows are not moved and keys not recomputed per comparison.
        let keys = rows.map(value)
        let order = rows.indices.sorted { i, j in
            if key != .name, keys[i] != keys[j] { return descending ? keys[i] > keys[j] : keys[i] < keys[j] }
            if key == .name, descending { return rows[i].name > rows[j].name }
            return rows[i].name < rows[j].name
        }
        return order.map { rows[$0] }
    }

    /// True when the source's topics are queues (RabbitMQ): the view shows them as a table of queues.
    public static func showsQueues(_ state: AppState) -> Bool {
        state.snapshot?.topics.first?.queue != nil
    }

    /// Number of groups with offsets per topic: O(committed partitions).
    public static func groupCounts(_ groups: [ConsumerGroup]) -> [String: Int] {
        groupsByTopic(groups).mapValues(\.count)
    }

    /// The positions in `groups` of the groups with offsets in each topic.
    static func groupsByTopic(_ groups: [ConsumerGroup]) -> [String: [Int]] {
        var byTopic: [String: [Int]] = [:]
        for (i, group) in groups.enumerated() {
            for topic in Set(group.offsets.keys.map(\.topic)) { byTopic[topic, default: []].append(i) }
        }
        return byTopic
    }

    /// A partition's leader, replicas and in-sync replicas as the partitions view shows them (Kafka),
    /// with the role that flags trouble: no leader or a leader that is down, fewer in-sync replicas than replicas.
    public struct Replication: Sendable, Hashable {
        /// Leader broker id, `N ✗` when it is down, `none` when leaderless.
        public var leader: String
        /// Role for the leader cell (trouble only).
        public var leaderRole: Role?
        /// Replica broker ids, comma-separated.
        public var replicas: String
        /// In-sync replica broker ids, comma-separated.
        public var inSync: String
        /// Role for the ISR cell: a warning when under-replicated.
        public var inSyncRole: Role?
    }

    /// ``Replication`` of a partition; `down` are the brokers the last snapshot found down.
    public static func replication(_ p: PartitionWatermarks, down: Set<Int32>) -> Replication {
        let list = { (ids: [Int32]?) in ids.map { $0.isEmpty ? "–" : $0.map(String.init).joined(separator: ",") } ?? "–" }
        var leader = "none", leaderRole: Role? = .connectionDown
        if let l = p.leader {
            leader = down.contains(l) ? "\(l) ✗" : String(l)
            leaderRole = down.contains(l) ? .connectionDown : nil
        }
        // Under-replicated: the ISR cell names the replicas out of sync too (REPLICAS may be dropped on narrow screens).
        let out = (p.replicas ?? []).filter { !(p.inSyncReplicas ?? []).contains($0) }
        let under = p.inSyncReplicas != nil && !out.isEmpty
        let inSync = list(p.inSyncReplicas) + (under ? " (\(list(out)) out)" : "")
        return Replication(leader: leader, leaderRole: leaderRole, replicas: list(p.replicas), inSync: inSync,
                           inSyncRole: under ? .lagWarn : nil)
    }

    /// True when the source reports leaders or replicas (Kafka): the partitions view then shows them.
    public static func hasReplication(_ info: TopicInfo) -> Bool {
        info.partitions.contains { $0.leader != nil || $0.replicas != nil }
    }

    /// Partition rows of one topic, filtered by the partitions filter (matched on the number).
    public static func partitionRows(_ state: AppState, topic: String) -> [PartitionRow] {
        guard let info = topicInfo(state, name: topic) else { return [] }
        let filter = RowFilter(state.filters[ViewID.partitions(topic: topic).name] ?? "")
        let all = state.snapshot?.groups ?? []
        let groups: [ConsumerGroup]
        if indexesCurrent(state) {
            groups = (state.topicRowsCache.groupsByTopic[topic] ?? []).compactMap { all.indices.contains($0) ? all[$0] : nil }
        } else {
            groups = all
        }
        return info.partitions.compactMap { p in
            guard filter.matches(String(p.partition)) else { return nil }
            let tp = TopicPartition(topic, p.partition)
            let lags = groups.compactMap { g -> (group: String, lag: Int64)? in
                guard let committed = g.offsets[tp] else { return nil }
                return (g.id, max(0, p.high - committed))
            }.sorted { $0.lag != $1.lag ? $0.lag > $1.lag : $0.group < $1.group }
            return PartitionRow(partition: p.partition, watermarks: p,
                                rates: state.meter.rates(topic: topic, partition: p.partition), groupLags: lags)
        }
    }

    /// Records retained on dead-letter topics.
    public static func deadLetterCount(_ state: AppState) -> Int64 {
        guard let snapshot = state.snapshot else { return 0 }
        return snapshot.topics.reduce(0) { sum, t in
            state.deadLetterTopics.isDeadLetterTopic(t.name) ? sum + t.retained : sum
        }
    }
}
