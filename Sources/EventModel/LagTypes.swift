import Foundation

/// Burrow-style status of a partition or a group, ordered so that the worst compares greatest:
/// `ok < unknown < warn < stall < stop < rewind < error`. A group's status is its worst partition's.
///
/// `unknown` ranks just above `ok`: a group with one partition OK and one that cannot be evaluated
/// is not OK, but a known alarm on another partition says more than "unknown" does.
///
/// Burrow itself reports a group as `ERR` when a partition is STOP, STALL or REWIND; evtop keeps
/// the partition-level status for the group instead (more informative) and reserves `.error` for
/// states Burrow cannot evaluate at all: a committed offset beyond the high watermark (negative
/// lag), or a committed offset for a topic or partition that no longer exists.
public enum LagStatus: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Consuming normally, or caught up at some point in the window.
    case ok
    /// Not evaluable from what the broker reports: its lag figure is unknown, or a rule needs a
    /// figure this broker does not give (see <doc:BrokerMapping>). Never shown as OK.
    case unknown
    /// Lag grew at every sample of the window (the consumer is falling behind).
    case warn
    /// Committed offset unchanged across the window while lag > 0, but still committing.
    case stall
    /// No commit for longer than the window spans, with lag > 0.
    case stop
    /// The committed offset went back within the window.
    case rewind
    /// Not evaluable: negative lag (committed > high watermark) or the topic/partition is gone.
    case error

    /// Orders by severity.
    public static func < (a: LagStatus, b: LagStatus) -> Bool { a.rawValue < b.rawValue }

    /// Burrow's spelling, for display.
    public var description: String {
        switch self {
        case .ok: return "OK"
        case .unknown: return "UNKNOWN"
        case .warn: return "WARN"
        case .stall: return "STALL"
        case .stop: return "STOP"
        case .rewind: return "REWIND"
        case .error: return "ERR"
        }
    }
}

/// Direction of a group's total lag over the recent past (see `LagTracker.Configuration.trendSeconds`).
/// Rates are magnitudes in records per second (always ≥ 0).
public enum LagTrend: Sendable, Hashable {
    /// Total lag increases by `perSecond` records each second.
    case growing(perSecond: Double)
    /// Total lag decreases by `perSecond` records each second.
    case shrinking(perSecond: Double)
    /// Change within the dead band over a history long enough to tell.
    case steady
    /// Not enough signal to name a direction: less history than a sixth of the trend window yet, or samples
    /// that scatter too widely around the fitted line for its slope to mean anything.
    case unsettled
    /// The group's total lag is not known (some partition's lag is not reported), so neither is its direction.
    case unknown
}

/// Where a partition's lag comes from.
public enum LagBasis: Sendable, Hashable {
    /// `high − committed`, from a committed offset (Kafka, the embedded store); also a partition
    /// the group has not committed on yet.
    case offsets
    /// Counted by the broker: ``ReportedLag/pending`` (RabbitMQ, Redis Streams, JetStream).
    case reported
}

/// Lag of one partition of one group at evaluation time.
public struct PartitionLag: Sendable, Hashable {
    /// Topic name.
    public var topic: String
    /// Partition number.
    public var partition: Int32
    /// Where ``lag`` comes from: a committed offset or the broker's own count.
    public var basis: LagBasis
    /// The group's committed offset (next offset to read); nil when the group never committed here.
    /// For a reported partition: the broker's ``ReportedLag/position``, nil where it has none.
    public var committed: Int64?
    /// High watermark (log end offset); 0 when the topic or partition no longer exists; nil for a
    /// partition without positions (a queue known by its depth).
    public var high: Int64?
    /// Records behind: `high − committed`, clamped at 0 (negative lag is reported as `.error`).
    /// With no commit yet: `high − low`, everything retained is unread. For a reported partition:
    /// the broker's pending count. Nil when the broker cannot tell (never 0 for unknown).
    public var lag: Int64?
    /// The broker's own figures for a reported partition (pending, position, acks, in flight); nil for offsets.
    public var reported: ReportedLag?
    /// Burrow status of this partition.
    public var status: LagStatus
    /// How long ago the log end was where the group is now (≈ age of the oldest unread record): from
    /// that record's timestamp when it was read (``RecordTime``; with no commit, the oldest retained record),
    /// else interpolated in the watermark history. 0 when lag is 0; nil when unknown (no commit and no
    /// record read yet, or no watermark history).
    public var secondsBehind: Double?
    /// True when `secondsBehind` is only a lower bound: the committed offset is older than all watermark
    /// history (the figure is the oldest sample's age), or retention deleted the group's next record (the
    /// figure is the oldest retained record's age).
    public var secondsBehindIsLowerBound: Bool
    /// Seconds since the last commit. With broker-reported commit times this is exact; without,
    /// it is the time since evtop saw the committed offset change (or first saw it). For a reported
    /// partition: since the progress figure last moved (or, with none, since the pending count last
    /// fell); nil when that cannot be told.
    public var lastCommitAgeSeconds: Double?
    /// True when no commit (or progress) was seen happen since evtop started watching and the broker
    /// keeps no commit time: ``lastCommitAgeSeconds`` is then only how long evtop has watched, a lower bound.
    public var lastCommitAgeIsLowerBound: Bool
    /// Records per second consumed: committed offset change from the oldest window sample to the
    /// latest snapshot, over that time. Nil until that time is > 0. Reported partitions: the change
    /// of the position or ack counter; nil without one.
    public var consumeRate: Double?
    /// Records per second produced over the same interval (high watermark change). Reported
    /// partitions without positions: consume rate plus the pending count's growth; nil without a consume rate.
    public var produceRate: Double?
    /// Seconds until lag reaches 0 at current rates: `lag / (consume − produce)`; 0 when lag is 0;
    /// nil when it never will (consume ≤ produce) or rates are unknown. Reported partitions: lag over
    /// the rate at which the pending count fell across the window.
    public var catchUpSeconds: Double?
    /// Offset samples in the evaluation window (≤ window size); Burrow's "completeness".
    public var windowSamples: Int

    /// Creates a partition lag.
    public init(topic: String, partition: Int32, committed: Int64?, high: Int64?, lag: Int64?,
                status: LagStatus, secondsBehind: Double?, secondsBehindIsLowerBound: Bool = false,
                lastCommitAgeSeconds: Double?, lastCommitAgeIsLowerBound: Bool = false, consumeRate: Double?, produceRate: Double?,
                catchUpSeconds: Double? = nil, windowSamples: Int = 0,
                basis: LagBasis = .offsets, reported: ReportedLag? = nil) {
        self.topic = topic
        self.partition = partition
        self.basis = basis
        self.reported = reported
        self.committed = committed
        self.high = high
        self.lag = lag
        self.status = status
        self.secondsBehind = secondsBehind
        self.secondsBehindIsLowerBound = secondsBehindIsLowerBound
        self.lastCommitAgeSeconds = lastCommitAgeSeconds
        self.lastCommitAgeIsLowerBound = lastCommitAgeIsLowerBound
        self.consumeRate = consumeRate
        self.produceRate = produceRate
        self.catchUpSeconds = catchUpSeconds
        self.windowSamples = windowSamples
    }
}

/// Lag of one consumer group at evaluation time.
public struct GroupLag: Sendable, Hashable {
    /// Group id.
    public var id: String
    /// Broker-reported state ("Stable", "Empty", ...).
    public var state: String
    /// Live members (0 for an empty group, which is still evaluated).
    public var members: Int
    /// Topics the group has committed offsets or reported lag for, sorted.
    public var topics: [String]
    /// Every partition of those topics, sorted by topic then partition (uncommitted ones included).
    public var partitions: [PartitionLag]
    /// Worst partition status (`.ok` for a group with no partitions).
    public var status: LagStatus
    /// Sum of the partition lags that are known; nil when the group has partitions and none knows
    /// its lag. A lower bound when ``lagUnknownPartitions`` > 0.
    public var totalLag: Int64?
    /// Largest known partition lag; nil when none is known. A lower bound like ``totalLag``.
    public var maxLag: Int64?
    /// Partitions whose lag the broker does not report: ``totalLag`` and ``maxLag`` leave them out.
    public var lagUnknownPartitions: Int
    /// Largest partition `secondsBehind`; nil when no partition knows it.
    public var secondsBehind: Double?
    /// True when the maximum may be larger: some partition's `secondsBehind` is a lower bound, or some
    /// lagging partition's is unknown (a partition never committed on, before its oldest record is read).
    public var secondsBehindIsLowerBound: Bool
    /// Direction of total lag over the recent past (`.unknown` while some partition's lag is).
    public var trend: LagTrend
    /// Seconds until every partition has caught up (the slowest partition's catch-up time, since
    /// partitions are consumed in parallel); 0 when total lag is 0; nil when some lagging partition
    /// never catches up at current rates, or when some lag is unknown.
    public var catchUpSeconds: Double?

    /// True when ``totalLag`` and ``maxLag`` leave out partitions whose lag is unknown.
    public var totalLagIsLowerBound: Bool { lagUnknownPartitions > 0 && totalLag != nil }

    /// True when the group has no position anywhere: no committed offset and no reported lag
    /// (a group named by the user that never committed, or does not exist).
    public var hasNoPositions: Bool { partitions.allSatisfy { $0.basis == .offsets && $0.committed == nil } }

    /// Creates a group lag.
    public init(id: String, state: String, members: Int, topics: [String], partitions: [PartitionLag],
                status: LagStatus, totalLag: Int64?, maxLag: Int64?, secondsBehind: Double?,
                secondsBehindIsLowerBound: Bool = false, trend: LagTrend, catchUpSeconds: Double?,
                lagUnknownPartitions: Int = 0) {
        self.lagUnknownPartitions = lagUnknownPartitions
        self.id = id
        self.state = state
        self.members = members
        self.topics = topics
        self.partitions = partitions
        self.status = status
        self.totalLag = totalLag
        self.maxLag = maxLag
        self.secondsBehind = secondsBehind
        self.secondsBehindIsLowerBound = secondsBehindIsLowerBound
        self.trend = trend
        self.catchUpSeconds = catchUpSeconds
    }
}
