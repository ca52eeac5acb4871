import Foundation

/// How long and how many records a log keeps in each partition, as Kafka's `retention.ms` and
/// `retention.bytes` do (by count here: every partition of a store keeps at most its own share, so a quiet
/// dead-letter topic is never emptied by a busy neighbour). The oldest records go first; the partition's
/// low watermark moves up with them, and offsets are never reused.
public struct RecordRetentionPolicy: Sendable, Equatable {
    /// Records whose timestamp is older than this many seconds are deleted; nil keeps them whatever their age.
    public var maxAge: TimeInterval?
    /// A partition keeps at most this many records, the newest; nil: no count limit.
    public var maxRecordsPerPartition: Int64?

    /// Creates a policy.
    public init(maxAge: TimeInterval?, maxRecordsPerPartition: Int64?) {
        self.maxAge = maxAge
        self.maxRecordsPerPartition = maxRecordsPerPartition
    }

    /// The default of the embedded store's writers: Kafka's default age (7 days), and at most 200,000
    /// records a partition (the demo's 12 partitions: at most 2.4 million records, ~1.4 GB at ~600 bytes a record).
    public static let standard = RecordRetentionPolicy(maxAge: 7 * 86_400, maxRecordsPerPartition: 200_000)

    /// Keeps everything.
    public static let off = RecordRetentionPolicy(maxAge: nil, maxRecordsPerPartition: nil)

    /// True when the policy deletes anything at all.
    public var isOn: Bool { maxAge != nil || maxRecordsPerPartition != nil }

    /// The age cutoff at `now`, in milliseconds since the epoch (records with older timestamps go), or nil.
    public func cutoffMillis(now: Date) -> Int64? {
        maxAge.map { Int64(((now.timeIntervalSince1970 - $0) * 1000).rounded(.down)) }
    }

    /// Where a partition's log starts after one bounded step of retention. Pure.
    ///
    /// - Parameters:
    ///   - low: the partition's low watermark now; `high`: its high watermark.
    ///   - front: the `(offset, timestamp)` of its oldest records from `low` on, in offset order (at most
    ///     `chunk` of them; only read for the age limit).
    ///   - chunk: the most records one step deletes.
    /// - Returns: the new low watermark, `low` when nothing goes. The count limit deletes the oldest beyond
    ///   it; the age limit deletes from the front up to the first record that is not older than the cutoff
    ///   (a younger record keeps the older ones after it, as a Kafka segment does).
    public static func newLow(low: Int64, high: Int64, front: [(offset: Int64, timestampMillis: Int64)],
                              cutoffMillis: Int64?, maxRecords: Int64?, chunk: Int64) -> Int64 {
        guard high > low, chunk > 0 else { return low }
        let limit = low.addingSaturating(chunk)
        var newLow = low
        if let maxRecords, high - low > max(0, maxRecords) {
            newLow = min(high - max(0, maxRecords), limit)
        }
        if let cutoffMillis {
            var expected = low
            for record in front where record.offset >= low {
                // The store's offsets are dense: a gap means the front given is not the partition's.
                guard record.offset == expected, record.offset < min(limit, high), record.timestampMillis < cutoffMillis else { break }
                expected += 1
            }
            newLow = max(newLow, expected)
        }
        return min(newLow, high)
    }
}

/// A log that can delete its oldest records (the embedded store; a Kafka broker does this itself).
public protocol RecordRetention: Sendable {
    /// Applies `policy` at `now` to every partition, in bounded chunks (each its own short write), and
    /// returns how many records were deleted.
    @discardableResult
    func pruneRecords(_ policy: RecordRetentionPolicy, now: Date) async throws -> Int64
}
