/// Walks one partition of a ``LogReader`` in batches, from a start position up to an end position
/// (usually the high watermark of a snapshot), always continuing from the position `read` returns.
///
/// Why not `last.offset + 1`: in Kafka a transaction's commit or abort marker takes an offset but is
/// no record, so a partition can end, or hold a stretch, where `read` returns no records but a later
/// position. A loop that restarts from the last record it saw (or stops at the first empty read) stalls
/// there for good; this reader steps over such positions itself and never hands out an empty batch.
///
/// ```swift
/// var reader = PartitionReader(log: log, topic: "orders", partition: 0, from: p.low, to: p.high)
/// while let batch = try await reader.next() {
///     for record in batch { ... }
/// }
/// cursor = reader.position   // where to go on next time (at most `end`)
/// ```
///
/// It is also an `AsyncSequence` of batches (`for try await batch in reader`), for loops that need no
/// position afterwards.
public struct PartitionReader: Sendable, AsyncSequence, AsyncIteratorProtocol {
    /// One batch of records, in position order; never empty.
    public typealias Element = [Record]

    /// The log read.
    public let log: any LogReader
    /// The topic read.
    public let topic: String
    /// The partition read.
    public let partition: Int32
    /// Where the walk stops: records at or past it are not handed out. `LogPosition.max`: no end, read
    /// until the log has nothing more for now.
    public let end: LogPosition
    /// Records asked for per `read` unless ``next(maxRecords:)`` says otherwise.
    public let batchSize: Int
    /// Where the next `read` starts: the start, then after each batch the position `read` returned
    /// (never before the records handed out, never past ``end``). Save it to go on later.
    public private(set) var position: LogPosition
    /// True once the walk reached ``end``, or the log had nothing at ``position`` (then a later walk from
    /// ``position`` may find more: a Kafka fetch can come back empty while the watermark is already ahead).
    public private(set) var isFinished = false

    /// A reader of `topic`/`partition` from `start` up to (not including) `end`, `batchSize` records per read.
    public init(log: any LogReader, topic: String, partition: Int32, from start: LogPosition,
                to end: LogPosition = .max, batchSize: Int = 500) {
        self.log = log
        self.topic = topic
        self.partition = partition
        self.position = start
        self.end = end
        self.batchSize = Swift.max(1, batchSize)
    }

    /// The next batch of at most `maxRecords` (default ``batchSize``) records before ``end``, or nil when
    /// the walk is over: ``end`` reached, or the log returned nothing and no position to go on from.
    /// Positions the log skips without records (transaction markers) are stepped over within one call.
    public mutating func next(maxRecords: Int? = nil) async throws -> [Record]? {
        let limit = Swift.max(1, maxRecords ?? batchSize)
        while !isFinished {
            guard position < end else {
                isFinished = true
                break
            }
            let span = end.subtractingSaturating(position)
            let want = span < LogPosition(limit) ? Int(span) : limit
            let (read, next) = try await log.read(topic: topic, partition: partition, from: position, maxRecords: want)
            // A source may hand back records before `position` (Kafka returns whole batches) or past `end`.
            let records = read.filter { $0.offset >= position && $0.offset < end }
            // Go on from what the log says, but never back and never before a record handed out
            // (a source whose `next` lags its records would otherwise repeat them forever).
            var after = Swift.max(next, position)
            if let last = records.last { after = Swift.max(after, last.offset.addingSaturating(1)) }
            after = Swift.min(after, end)
            if records.isEmpty && after == position {
                isFinished = true  // nothing here for now
                break
            }
            position = after
            if !records.isEmpty { return records }
        }
        return nil
    }

    /// The next batch of ``batchSize`` records (see ``next(maxRecords:)``).
    public mutating func next() async throws -> [Record]? {
        try await next(maxRecords: nil)
    }

    /// The reader itself: iterating consumes it.
    public func makeAsyncIterator() -> PartitionReader { self }
}
