import Foundation

/// One partition's watermarks: low = first retained position, high = next position to be written.
///
/// A broker that counts messages instead of numbering them (a RabbitMQ classic queue) reports a
/// ``depth`` and no positions. How each broker fills these fields: <doc:BrokerMapping>.
public struct PartitionWatermarks: Sendable, Hashable, Codable {
    /// Partition number (0 for brokers without partitions).
    public var partition: Int32
    /// First position still in the log; 0 when the partition has no positions (``depth`` is set).
    public var low: Int64
    /// Position the next record will get (log end); 0 when the partition has no positions (``depth`` is set).
    public var high: Int64
    /// Broker id of the partition leader, where the broker reports one (Kafka); nil when unknown or leaderless.
    public var leader: Int32?
    /// Broker ids holding replicas, where the broker reports them (Kafka).
    public var replicas: [Int32]?
    /// Broker ids of the in-sync replicas, where the broker reports them (Kafka).
    public var inSyncReplicas: [Int32]?
    /// Messages held, for a partition the broker counts rather than numbers (a RabbitMQ queue's
    /// ready + unacknowledged); nil for a log with positions, whose count is `high − low`.
    public var depth: Int64?
    /// Messages ever written to a partition known by its ``depth``, where the broker keeps that count
    /// (RabbitMQ's `message_stats.publish`): what its produce rate is measured from. It only grows; a
    /// decrease means the broker reset its statistics. Nil for a log with positions (``high`` counts)
    /// and where the broker does not say: the rate is then unknown, never 0.
    public var published: Int64?

    /// Creates watermarks; leader and replicas are for brokers that have them.
    public init(partition: Int32, low: Int64, high: Int64,
                leader: Int32? = nil, replicas: [Int32]? = nil, inSyncReplicas: [Int32]? = nil) {
        self.partition = partition
        self.low = low
        self.high = high
        self.leader = leader
        self.replicas = replicas
        self.inSyncReplicas = inSyncReplicas
        self.depth = nil
        self.published = nil
    }

    /// Creates a partition known only by how many messages it holds (no positions: `low` and `high` are 0).
    public init(partition: Int32, depth: Int64, published: Int64? = nil) {
        self.init(partition: partition, low: 0, high: 0)
        self.depth = depth
        self.published = published
    }

    /// True when `low` and `high` are positions; false for a partition known only by its ``depth``.
    public var hasPositions: Bool { depth == nil }

    /// The positions ``LogReader/read(topic:partition:from:maxRecords:)`` accepts: a log's `low..<high`, or,
    /// for a queue known by its depth, the browse ordinals `0..<depth` (0 is the head, counted when read).
    public var readable: Range<Int64> {
        if let depth { return 0..<max(0, depth) }
        return low..<max(low, high)
    }

    /// Messages ever written, where known: `high` for a log with positions, else ``published``.
    public var written: Int64? { hasPositions ? high : published }

    /// Number of records retained in the partition: the ``depth`` where the broker counts them, else `high − low`.
    public var count: Int64 { depth.map { max(0, $0) } ?? max(0, high.subtractingSaturating(low)) }
}

/// A topic with its partitions' watermarks (a Kafka topic, a RabbitMQ queue, a Redis stream, a JetStream stream).
public struct TopicInfo: Sendable, Hashable, Codable {
    /// Topic name.
    public var name: String
    /// Partitions sorted by number.
    public var partitions: [PartitionWatermarks]
    /// What a queue broker says about the queue besides its depth (RabbitMQ); nil for a log.
    public var queue: QueueFacts?

    /// Creates a topic description.
    public init(name: String, partitions: [PartitionWatermarks], queue: QueueFacts? = nil) {
        self.name = name
        self.partitions = partitions
        self.queue = queue
    }

    /// Sum of high watermarks: total records ever written (what throughput differentiates).
    /// Partitions without positions contribute 0.
    public var totalHigh: Int64 { partitions.reduce(0) { $0.addingSaturating($1.high) } }
    /// Messages ever written across partitions, where every partition knows it (``PartitionWatermarks/written``);
    /// nil when one does not, so a produce rate built on it is unknown rather than too low.
    public var totalWritten: Int64? {
        var sum: Int64 = 0
        for p in partitions {
            guard let w = p.written else { return nil }
            sum = sum.addingSaturating(w)
        }
        return sum
    }
    /// Records currently retained across partitions.
    public var retained: Int64 { partitions.reduce(0) { $0.addingSaturating($1.count) } }
}

/// Where a group stands on one partition (or queue, or stream) when the broker counts its lag itself
/// instead of reporting a committed offset: RabbitMQ queues, Redis Streams groups, JetStream consumers.
///
/// Every figure is optional: nil means the broker did not say, and evtop shows it as unknown, never
/// as 0. Which broker figure goes where: <doc:BrokerMapping>.
public struct ReportedLag: Sendable, Hashable, Codable {
    /// Messages the group still has to process, as the broker counts them (its lag). Where
    /// ``position`` is also given, counted from it. Nil when the broker cannot tell.
    public var pending: Int64?
    /// The next position the group will process, in the partition's position space (JetStream:
    /// ack floor + 1; Redis: entries-read). Going back is a REWIND. Nil where there are no positions.
    public var position: Int64?
    /// A running count of messages the group has finished (RabbitMQ: the queue's ack counter).
    /// It only grows; a decrease means the broker reset its statistics, not a rewind. Nil when not reported.
    public var acknowledged: Int64?
    /// Messages delivered to a consumer and not yet acknowledged, where reported (informational:
    /// whether they are part of ``pending`` depends on the broker, see the mapping).
    public var inFlight: Int64?
    /// When the oldest message the group still has to process was written, milliseconds since the
    /// epoch, where the broker tells it (RabbitMQ's head message timestamp, a Redis entry id's time).
    public var oldestPendingMillis: Int64?

    /// Creates a reported position; every figure the broker does not give stays nil.
    public init(pending: Int64?, position: Int64? = nil, acknowledged: Int64? = nil,
                inFlight: Int64? = nil, oldestPendingMillis: Int64? = nil) {
        self.pending = pending
        self.position = position
        self.acknowledged = acknowledged
        self.inFlight = inFlight
        self.oldestPendingMillis = oldestPendingMillis
    }

    /// True when the broker reports a figure that moves as the group makes progress.
    public var hasProgress: Bool { position != nil || acknowledged != nil }
}

/// A consumer group: its state, members and, per partition, either a committed offset (lag is then
/// `high − committed`) or the lag the broker reports (``ReportedLag``).
///
/// How a RabbitMQ queue's consumers, a Redis Streams group and a JetStream consumer fill it:
/// <doc:BrokerMapping>.
public struct ConsumerGroup: Sendable, Hashable, Codable {
    /// Group id.
    public var id: String
    /// Broker-reported state ("Stable", "Empty", ...).
    public var state: String
    /// Number of live members (consumers attached).
    public var members: Int
    /// Committed offsets per partition (the next offset the group will read).
    public var offsets: [TopicPartition: Int64]
    /// When each partition's offset was last committed (or, for a reported partition, when the
    /// broker says the group last made progress), milliseconds since the epoch, where known.
    public var commitTimesMillis: [TopicPartition: Int64]
    /// Lag the broker reports per partition, for brokers without committed offsets. A partition
    /// that also has a committed offset in ``offsets`` is evaluated from the offset.
    public var reported: [TopicPartition: ReportedLag]

    /// Creates a consumer group description.
    public init(id: String, state: String, members: Int,
                offsets: [TopicPartition: Int64], commitTimesMillis: [TopicPartition: Int64] = [:],
                reported: [TopicPartition: ReportedLag] = [:]) {
        self.id = id
        self.state = state
        self.members = members
        self.offsets = offsets
        self.commitTimesMillis = commitTimesMillis
        self.reported = reported
    }

    /// Topics this group has committed offsets or reported lag for, sorted.
    public var topics: [String] {
        Array(Set(offsets.keys.map(\.topic)).union(reported.keys.map(\.topic))).sorted()
    }

    private enum CodingKeys: String, CodingKey { case id, state, members, offsets, commitTimesMillis, reported }

    /// Decodes a group; `reported` may be absent (files written before it existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id),
                  state: try c.decode(String.self, forKey: .state),
                  members: try c.decode(Int.self, forKey: .members),
                  offsets: try c.decode([TopicPartition: Int64].self, forKey: .offsets),
                  commitTimesMillis: try c.decodeIfPresent([TopicPartition: Int64].self, forKey: .commitTimesMillis) ?? [:],
                  reported: try c.decodeIfPresent([TopicPartition: ReportedLag].self, forKey: .reported) ?? [:])
    }
}

/// Everything a tick needs from a broker, taken at one instant: O(partitions) to produce.
public struct BrokerSnapshot: Sendable, Hashable {
    /// When the snapshot was taken.
    public var time: Date
    /// Topics sorted by name.
    public var topics: [TopicInfo]
    /// Consumer groups sorted by id.
    public var groups: [ConsumerGroup]
    /// Which brokers of a cluster answered (nil for a log without brokers, such as the embedded store).
    public var brokers: BrokerAvailability?
    /// Topics the broker's own configuration makes dead-letter queues (a RabbitMQ queue bound to an
    /// exchange another queue names in `x-dead-letter-exchange`), besides those found by name or headers.
    public var deadLetterTopics: Set<String>
    /// What the source could not read for this snapshot and how the figures suffer, for the status line
    /// (RabbitMQ without its management API: depths of named queues only, no rates). Nil when complete.
    public var limitation: String?

    /// Creates a snapshot.
    public init(time: Date, topics: [TopicInfo], groups: [ConsumerGroup], brokers: BrokerAvailability? = nil,
                deadLetterTopics: Set<String> = [], limitation: String? = nil) {
        self.time = time
        self.topics = topics
        self.groups = groups
        self.brokers = brokers
        self.deadLetterTopics = deadLetterTopics
        self.limitation = limitation
    }
}

/// How many of a cluster's brokers answered the last snapshot's requests.
public struct BrokerAvailability: Sendable, Hashable {
    /// Brokers in the cluster's metadata.
    public var total: Int
    /// Ids of the brokers that did not answer, sorted.
    public var down: [Int32]
    /// The cluster's controller (the broker that manages partition leadership), nil when unknown.
    public var controller: Int32?

    /// Creates an availability report (`down` is sorted and kept within the cluster's count; a negative
    /// `controller`, librdkafka's "unknown", is nil).
    public init(total: Int, down: [Int32], controller: Int32? = nil) {
        self.total = max(0, total)
        self.down = Array(Set(down).sorted().prefix(self.total))
        self.controller = controller.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Brokers that answered.
    public var up: Int { total - down.count }
    /// True when some but not all brokers are down.
    public var isPartial: Bool { !down.isEmpty && up > 0 }
}

/// Errors any broker log may report, worded for an operator.
public enum BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The topic does not exist.
    case unknownTopic(String)
    /// The partition does not exist in the topic.
    case unknownPartition(String, Int32)
    /// The source URL could not be understood.
    case badURL(String, reason: String)
    /// The broker could not be reached or went away.
    case unavailable(String)
    /// The log refused to write (read-only, or the store says no).
    case writeRefused(String)
    /// The broker cannot do what was asked of this topic (a RabbitMQ stream cannot be browsed): retrying will not help.
    case unsupported(String)

    /// A one-line explanation for the status line and stderr.
    public var description: String {
        switch self {
        case .unknownTopic(let t): return "unknown topic '\(t)'"
        case .unknownPartition(let t, let p): return "topic '\(t)' has no partition \(p)"
        case .badURL(let url, let reason): return "cannot use broker '\(url)': \(reason)"
        case .unavailable(let why): return "broker unavailable: \(why)"
        case .writeRefused(let why): return "write refused: \(why)"
        case .unsupported(let why): return why
        }
    }
}

extension Int64 {
    /// `self + other`, pinned at the bounds instead of trapping: offsets come from outside.
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self − other`, pinned at the bounds instead of trapping.
    public func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
