import Foundation

/// The timestamp of the first record at or after `offset` of a partition: when the log end stood there,
/// so a group positioned at `offset` is as far behind as that record is old. Read by the app (one
/// record, off the UI thread) and given to ``LagTracker/noteRecordTimes(_:)``.
public struct RecordTime: Sendable, Hashable {
    /// Topic and partition.
    public var partition: TopicPartition
    /// The offset asked for (the group's committed offset, or the partition's low watermark).
    public var offset: Int64
    /// Timestamp of the first record at or after `offset`, milliseconds since 1970 (> 0).
    public var timestampMillis: Int64

    /// Creates a record time.
    public init(_ partition: TopicPartition, offset: Int64, timestampMillis: Int64) {
        self.partition = partition
        self.offset = offset
        self.timestampMillis = timestampMillis
    }

    /// A partition and an offset in it.
    public struct Key: Sendable, Hashable {
        /// Topic and partition.
        public var partition: TopicPartition
        /// Offset.
        public var offset: Int64

        /// Creates a key.
        public init(partition: TopicPartition, offset: Int64) {
            self.partition = partition
            self.offset = offset
        }
    }

    /// Seconds from the record's timestamp to `now`, never negative.
    public func age(now: Date) -> Double {
        max(0, now.timeIntervalSince1970 - Double(timestampMillis) / 1000)
    }
}

/// Which record times time lag needs: the one plan shared by `evtop lag` and the dashboard's poller.
public enum RecordTimePlan {
    /// Partitions of a consumed topic that a group has never committed on and that hold records, each with
    /// its low watermark: everything retained there is unread, so the group is as far behind there as its
    /// oldest retained record is old. One entry per partition, whatever the number of groups; sorted.
    public static func uncommitted(_ snapshot: BrokerSnapshot) -> [(TopicPartition, offset: Int64)] {
        var consumed: [String: [ConsumerGroup]] = [:]
        for g in snapshot.groups where !g.offsets.isEmpty {
            for topic in Set(g.offsets.keys.map(\.topic)) { consumed[topic, default: []].append(g) }
        }
        var out: [(TopicPartition, offset: Int64)] = []
        for topic in snapshot.topics {
            guard let groups = consumed[topic.name] else { continue }
            for p in topic.partitions where p.hasPositions && p.high > p.low {
                let tp = TopicPartition(topic.name, p.partition)
                if groups.contains(where: { $0.offsets[tp] == nil && $0.reported[tp] == nil }) {
                    out.append((tp, offset: p.low))
                }
            }
        }
        return out.sorted { $0.0.topic != $1.0.topic ? $0.0.topic < $1.0.topic : $0.0.partition < $1.0.partition }
    }

    /// Every lagging partition of `groups` read by offsets, with where its first unread record is: the
    /// committed offset (or, retention having deleted it, the low watermark), the low watermark when it
    /// has no commit. What `evtop lag` reads once, having watched too briefly to interpolate.
    public static func lagging(_ groups: [GroupLag], low: [TopicPartition: Int64]) -> [(TopicPartition, offset: Int64)] {
        var seen = Set<RecordTime.Key>()
        var out: [(TopicPartition, offset: Int64)] = []
        for g in groups {
            for p in g.partitions where p.basis == .offsets && (p.lag ?? 0) > 0 {
                let tp = TopicPartition(p.topic, p.partition)
                let oldest = low[tp]
                guard let from = p.committed.map({ c in max(c, oldest ?? c) }) ?? oldest else { continue }
                // Two groups at one offset: one read; at different offsets: both.
                guard seen.insert(RecordTime.Key(partition: tp, offset: from)).inserted else { continue }
                out.append((tp, offset: from))
            }
        }
        return out
    }
}
