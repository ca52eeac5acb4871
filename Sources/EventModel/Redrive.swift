import Foundation

/// Where a redriven or replayed message goes and what it carries: pure rules shared by the
/// redrive engine, its dry run and the confirm dialog (DESIGN.md §4).
public enum RedriveRules {
    /// The redrive id of a dead letter: its own DLQ position, `topic/partition/offset`.
    /// The same letter always gets the same id, which is what makes a repeat find it already done.
    public static func redriveID(_ position: RecordPosition) -> String {
        "\(position.topic)/\(position.partition)/\(position.offset)"
    }

    /// True for headers that describe the failure or an earlier redrive, which a requeued
    /// message must not carry: Spring's `kafka_dlt-*`/`retry_topic-*`, Connect's `__connect.errors.*`, `evtop-*`.
    public static func isDeadLetterHeader(_ name: String) -> Bool {
        name.hasPrefix(DeadLetterHeaderNames.Spring.prefix)
            || name.hasPrefix(DeadLetterHeaderNames.Spring.retryPrefix)
            || name.hasPrefix(DeadLetterHeaderNames.Connect.prefix)
            || name.hasPrefix(DeadLetterHeaderNames.Evtop.prefix)
    }

    /// The topic a dead letter goes back to: the override, else the original topic from its headers.
    public static func targetTopic(_ letter: DeadLetter, override: String?) -> String? {
        if let override, !override.isEmpty { return override }
        return letter.originalTopic
    }

    /// The partition a message goes to in a target with `partitionCount` partitions: its original
    /// partition when it goes back where it came from (keeps per-key order), else by key hash, else
    /// by a hash of the redrive id (stable, so a retry picks the same partition).
    public static func targetPartition(originalTopic: String?, originalPartition: Int32?, target: String,
                                       key: [UInt8]?, redriveID: String, partitionCount: Int32) -> Int32 {
        guard partitionCount > 0 else { return 0 }
        if target == originalTopic, let p = originalPartition, p >= 0, p < partitionCount { return p }
        if let key, !key.isEmpty { return KeyPartitioner.partition(for: key, count: partitionCount) }
        return KeyPartitioner.partition(for: Array(redriveID.utf8), count: partitionCount)
    }

    /// The message to produce: key, value and timestamp as they were, the non-dead-letter headers in
    /// their order, then evtop's redrive headers.
    public static func outgoing(from record: Record, topic: String, partition: Int32, redriveID: String,
                                nowMillis: Int64, keepAllHeaders: Bool = false) -> OutgoingRecord {
        typealias E = DeadLetterHeaderNames.Evtop
        var headers = record.headers.filter { keepAllHeaders ? !$0.name.hasPrefix(E.prefix) : !isDeadLetterHeader($0.name) }
        headers.append(RecordHeader(E.redriveID, redriveID))
        headers.append(RecordHeader(E.redrivenFrom, "\(record.topic)/\(record.partition)/\(record.offset)"))
        headers.append(RecordHeader(E.redrivenAt, String(nowMillis)))
        return OutgoingRecord(topic: topic, partition: partition, timestampMillis: record.timestampMillis,
                              key: record.key, headers: headers, value: record.value)
    }

    /// The redrive id a record carries, if any.
    public static func carriedRedriveID(_ record: Record) -> String? {
        record.header(DeadLetterHeaderNames.Evtop.redriveID)?.utf8Value
    }
}

/// Where one dead letter stands in the redrive journal.
public enum RedriveItemState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Selected by a job, not yet attempted.
    case queued
    /// Intent written; produce in flight or interrupted (resolved on resume).
    case inFlight = "intent"
    /// Landed in the target exactly once.
    case done
    /// Could not be redriven (no target topic, target missing, ...); see the detail.
    case failed

    /// The word the DLQ view shows.
    public var label: String {
        switch self {
        case .queued: return "queued"
        case .inFlight: return "moving"
        case .done: return "redriven"
        case .failed: return "failed"
        }
    }
}

/// A token bucket: at most `ratePerSecond` messages per second on average, bursts of `burst`.
/// Pure: it is told the time and answers how long to wait.
public struct RateLimiter: Sendable, Hashable {
    /// Messages per second; nil or ≤ 0 means unlimited.
    public let ratePerSecond: Double?
    /// Largest burst.
    public let burst: Double
    private var tokens: Double
    private var last: Double?

    /// Creates a limiter; `burst` defaults to a tenth of a second's worth (at least 1).
    public init(ratePerSecond: Double?, burst: Double? = nil) {
        let rate = (ratePerSecond ?? 0) > 0 ? ratePerSecond : nil
        self.ratePerSecond = rate
        self.burst = burst ?? max(1, (rate ?? 0) / 10)
        self.tokens = self.burst
    }

    /// How many of `wanted` messages may go now (at least 1 when the bucket has a whole token),
    /// and how many seconds to wait before asking again when none may.
    public mutating func take(_ wanted: Int, now: Double) -> (granted: Int, waitSeconds: Double) {
        guard let rate = ratePerSecond else { return (wanted, 0) }
        if let last { tokens = min(burst, tokens + max(0, now - last) * rate) }
        last = now
        let granted = min(wanted, Int(tokens.rounded(.down)))
        if granted > 0 {
            tokens -= Double(granted)
            return (granted, 0)
        }
        return (0, (1 - tokens) / rate)
    }
}
