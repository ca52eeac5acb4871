import Foundation

/// Where a redriven or replayed message goes and what it carries: pure rules shared by the
/// redrive engine, its dry run and the confirm dialog (docs/redrive.md).
public enum RedriveRules {
    /// The redrive id of a dead letter: its own DLQ position and timestamp, `topic/partition/offset@millis`
    /// (`topic/partition/offset` when the timestamp is not known). The same letter always gets the same id,
    /// which is what makes a repeat find it already done; the timestamp tells a new letter at an old
    /// position (a DLQ topic purged by deleting and recreating it) from the one that was requeued.
    public static func redriveID(_ position: RecordPosition, timestampMillis: Int64? = nil) -> String {
        "\(position.topic)/\(position.partition)/\(position.offset)" + (timestampMillis.map { "@\($0)" } ?? "")
    }

    /// The letter timestamp a redrive id carries (nil for ids without one, and for replay ids).
    public static func timestamp(inRedriveID id: String) -> Int64? {
        guard !id.hasPrefix("replay:"), let tail = id.split(separator: "/").last, let at = tail.lastIndex(of: "@") else { return nil }
        return Int64(tail[tail.index(after: at)...])
    }

    /// True for headers that describe the failure or an earlier redrive, which a requeued
    /// message must not carry: Spring's `kafka_dlt-*`/`retry_topic-*`, Connect's `__connect.errors.*`, `evtop-*`.
    public static func isDeadLetterHeader(_ name: String) -> Bool {
        name.hasPrefix(DeadLetterHeaderNames.Spring.prefix)
            || name.hasPrefix(DeadLetterHeaderNames.Spring.retryPrefix)
            || name.hasPrefix(DeadLetterHeaderNames.Connect.prefix)
            || name.hasPrefix(DeadLetterHeaderNames.Evtop.prefix)
            || name == DeadLetterHeaderNames.RabbitMQ.death
            || name.hasPrefix(DeadLetterHeaderNames.RabbitMQ.firstDeathPrefix)
            || name.hasPrefix(DeadLetterHeaderNames.RabbitMQ.lastDeathPrefix)
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
    /// Set aside by the operator: stays on the DLQ, and no requeue moves it until it is un-skipped.
    case skipped

    /// The word the DLQ view shows.
    public var label: String {
        switch self {
        case .queued: return "queued"
        case .inFlight: return "moving"
        case .done: return "redriven"
        case .failed: return "failed"
        case .skipped: return "skipped"
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

/// What an operator asked to move.
public struct RedriveRequest: Sendable, Hashable {
    /// Redrive sends dead letters back (id = DLQ position, so a letter moves once, ever);
    /// replay copies a range of records (id scoped to the job, so a range may be replayed again).
    public enum Kind: String, Sendable, Hashable { case redrive, replay }

    /// The job kinds that only write the journal: letters set aside (`skip`) or given back (`unskip`).
    public static let skipKind = "skip", unskipKind = "unskip"

    /// Redrive or replay.
    public var kind: Kind
    /// The DLQ topic (redrive) or the source topic (replay).
    public var sourceTopic: String
    /// The selected records of `sourceTopic`, in the order they should move.
    public var positions: [RecordPosition]
    /// Send everything here instead of each letter's original topic.
    public var targetOverride: String?
    /// Messages per second; nil means as fast as the broker takes them.
    public var ratePerSecond: Double?
    /// Compute and report, write nothing.
    public var dryRun: Bool
    /// How the selection was made, for the audit trail.
    public var selectionDescription: String
    /// Who asked.
    public var user: String
    /// Each selected letter's timestamp as it was shown (redrive): part of its redrive id, and checked
    /// again when the letter is read, so a letter that changed since is not moved in its place.
    public var timestamps: [RecordPosition: Int64]
    /// Each selected letter's ``QueueFingerprint`` as it was shown, for a source whose letters sit in a queue:
    /// browse positions shift when a consumer takes a message, so the letters are found again by content.
    public var fingerprints: [RecordPosition: String] = [:]

    /// Creates a request.
    public init(kind: Kind = .redrive, sourceTopic: String, positions: [RecordPosition], targetOverride: String? = nil,
                ratePerSecond: Double? = nil, dryRun: Bool = false, selectionDescription: String, user: String,
                timestamps: [RecordPosition: Int64] = [:]) {
        self.kind = kind
        self.sourceTopic = sourceTopic
        self.positions = positions
        self.timestamps = timestamps
        self.targetOverride = targetOverride
        self.ratePerSecond = ratePerSecond
        self.dryRun = dryRun
        self.selectionDescription = selectionDescription
        self.user = user
    }
}

/// How far a job has come, reported after every batch.
public struct RedriveProgress: Sendable, Hashable {
    /// Job id ("dry-run" for a dry run).
    public var jobID: String
    /// Messages this job moves (claimed).
    public var total: Int
    /// Landed so far.
    public var moved: Int
    /// Could not be moved.
    public var failed: Int
    /// Already redriven by an earlier job (not moved again).
    public var skipped: Int
    /// Messages per second since the job started.
    public var ratePerSecond: Double
    /// Seconds left at that rate, when known.
    public var etaSeconds: Double?
    /// Why the job is waiting, when it is ("broker unavailable: …, retrying in 2 s").
    public var waiting: String?

    /// Creates a progress report.
    public init(jobID: String, total: Int, moved: Int, failed: Int, skipped: Int, ratePerSecond: Double,
                etaSeconds: Double?, waiting: String? = nil) {
        self.jobID = jobID
        self.total = total
        self.moved = moved
        self.failed = failed
        self.skipped = skipped
        self.ratePerSecond = ratePerSecond
        self.etaSeconds = etaSeconds
        self.waiting = waiting
    }

    /// Moved or failed: how much of the job is behind us.
    public var finished: Int { moved + failed }
}

/// How a job ended.
public struct RedriveReport: Sendable, Hashable {
    /// Job id ("dry-run" for a dry run).
    public var jobID: String
    /// Messages selected.
    public var selected: Int
    /// Messages that landed (for a dry run: that would be moved).
    public var moved: Int
    /// Selected messages already redriven by an earlier job, or owned by another job.
    public var skipped: Int
    /// Of `skipped`: messages owned by other jobs still running when this one started, by job id
    /// (a concurrent job is not an "earlier" one).
    public var skippedToRunning: [String: Int] = [:]
    /// Messages that could not be moved, with why (first few hundred).
    public var failures: [Failure]
    /// Failed count (may exceed `failures.count`).
    public var failed: Int
    /// Messages per target topic (moved, or for a dry run, to move).
    public var targets: [String: Int]
    /// True when the operator cancelled.
    public var cancelled: Bool
    /// True for a dry run.
    public var dryRun: Bool
    /// Messages whose produce was in flight when the job stopped (cancelled while the broker did not
    /// answer): they may or may not have landed; the journal keeps them for `resume` to resolve.
    public var inDoubt: Int = 0
    /// Queue redrive: letters published again after an interruption left their first publish unconfirmed.
    /// Each may now be in its target twice, both copies carrying the same `evtop-redrive-id`.
    public var sentAgainAfterDoubt: Int = 0

    /// One message that could not be moved.
    public struct Failure: Sendable, Hashable {
        /// Redrive id.
        public var redriveID: String
        /// Why.
        public var reason: String

        /// Creates a failure.
        public init(redriveID: String, reason: String) {
            self.redriveID = redriveID
            self.reason = reason
        }
    }

    /// Creates a report.
    public init(jobID: String, selected: Int, moved: Int, skipped: Int, failures: [Failure], failed: Int,
                targets: [String: Int], cancelled: Bool, dryRun: Bool) {
        self.jobID = jobID
        self.selected = selected
        self.moved = moved
        self.skipped = skipped
        self.failures = failures
        self.failed = failed
        self.targets = targets
        self.cancelled = cancelled
        self.dryRun = dryRun
    }
}
