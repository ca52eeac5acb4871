import Foundation

/// One partition's watermarks: low = first retained offset, high = next offset to be written.
public struct PartitionWatermarks: Sendable, Hashable, Codable {
    /// Partition number.
    public var partition: Int32
    /// First offset still in the log.
    public var low: Int64
    /// Offset the next record will get (log end offset).
    public var high: Int64
    /// Broker id of the partition leader, where the broker reports one (Kafka); nil when unknown or leaderless.
    public var leader: Int32?
    /// Broker ids holding replicas, where the broker reports them (Kafka).
    public var replicas: [Int32]?
    /// Broker ids of the in-sync replicas, where the broker reports them (Kafka).
    public var inSyncReplicas: [Int32]?

    /// Creates watermarks; leader and replicas are for brokers that have them.
    public init(partition: Int32, low: Int64, high: Int64,
                leader: Int32? = nil, replicas: [Int32]? = nil, inSyncReplicas: [Int32]? = nil) {
        self.partition = partition
        self.low = low
        self.high = high
        self.leader = leader
        self.replicas = replicas
        self.inSyncReplicas = inSyncReplicas
    }

    /// Number of records retained in the partition.
    public var count: Int64 { max(0, high.subtractingSaturating(low)) }
}

/// A topic with its partitions' watermarks.
public struct TopicInfo: Sendable, Hashable, Codable {
    /// Topic name.
    public var name: String
    /// Partitions sorted by number.
    public var partitions: [PartitionWatermarks]

    /// Creates a topic description.
    public init(name: String, partitions: [PartitionWatermarks]) {
        self.name = name
        self.partitions = partitions
    }

    /// Sum of high watermarks: total records ever written (what throughput differentiates).
    public var totalHigh: Int64 { partitions.reduce(0) { $0.addingSaturating($1.high) } }
    /// Records currently retained across partitions.
    public var retained: Int64 { partitions.reduce(0) { $0.addingSaturating($1.count) } }
}

/// A consumer group: its state, members and committed offsets.
public struct ConsumerGroup: Sendable, Hashable, Codable {
    /// Group id.
    public var id: String
    /// Broker-reported state ("Stable", "Empty", ...).
    public var state: String
    /// Number of live members.
    public var members: Int
    /// Committed offsets per partition (the next offset the group will read).
    public var offsets: [TopicPartition: Int64]
    /// When each partition's offset was last committed, milliseconds since the epoch, where known.
    public var commitTimesMillis: [TopicPartition: Int64]

    /// Creates a consumer group description.
    public init(id: String, state: String, members: Int,
                offsets: [TopicPartition: Int64], commitTimesMillis: [TopicPartition: Int64] = [:]) {
        self.id = id
        self.state = state
        self.members = members
        self.offsets = offsets
        self.commitTimesMillis = commitTimesMillis
    }

    /// Topics this group has committed offsets for, sorted.
    public var topics: [String] { Array(Set(offsets.keys.map(\.topic))).sorted() }
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

    /// Creates a snapshot.
    public init(time: Date, topics: [TopicInfo], groups: [ConsumerGroup], brokers: BrokerAvailability? = nil) {
        self.time = time
        self.topics = topics
        self.groups = groups
        self.brokers = brokers
    }
}

/// How many of a cluster's brokers answered the last snapshot's requests.
public struct BrokerAvailability: Sendable, Hashable {
    /// Brokers in the cluster's metadata.
    public var total: Int
    /// Ids of the brokers that did not answer, sorted.
    public var down: [Int32]

    /// Creates an availability report (`down` is sorted and kept within the cluster's count).
    public init(total: Int, down: [Int32]) {
        self.total = max(0, total)
        self.down = Array(Set(down).sorted().prefix(self.total))
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

    /// A one-line explanation for the status line and stderr.
    public var description: String {
        switch self {
        case .unknownTopic(let t): return "unknown topic '\(t)'"
        case .unknownPartition(let t, let p): return "topic '\(t)' has no partition \(p)"
        case .badURL(let url, let reason): return "cannot use broker '\(url)': \(reason)"
        case .unavailable(let why): return "broker unavailable: \(why)"
        case .writeRefused(let why): return "write refused: \(why)"
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
