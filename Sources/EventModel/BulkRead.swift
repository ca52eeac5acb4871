/// A stretch of one partition to read in bulk: from `from` up to, not including, `to`.
public struct ReadRange: Sendable, Hashable {
    /// The partition.
    public var partition: TopicPartition
    /// The first position read.
    public var from: LogPosition
    /// Where reading stops (usually a snapshot's high watermark).
    public var to: LogPosition

    /// Creates a range.
    public init(_ partition: TopicPartition, from: LogPosition, to: LogPosition) {
        self.partition = partition
        self.from = from
        self.to = to
    }
}

/// One batch of a bulk read: records of several partitions, each partition's in position order.
public struct BulkBatch: Sendable {
    /// The records, at most a few thousand.
    public var records: [Record]
    /// For each partition this batch moved: where reading it goes on (past its last record, or past
    /// positions that hold no record, such as transaction markers). Never past the range's `to`.
    public var next: [TopicPartition: LogPosition]
    /// Ranges this batch finished: read up to their `to`, or to where the partition ends for now.
    public var finished: [TopicPartition]

    /// Creates a batch.
    public init(records: [Record], next: [TopicPartition: LogPosition], finished: [TopicPartition]) {
        self.records = records
        self.next = next
        self.finished = finished
    }
}

extension LogReader {
    /// The bulk read every source has: the ranges one after the other through
    /// ``LogReader/read(topic:partition:from:maxRecords:)``, a batch per read. Sources with a faster
    /// path (Kafka: every partition fetched at once into one queue) provide their own.
    public func readRanges(_ ranges: [ReadRange], body: @escaping @Sendable (BulkBatch) throws -> Bool) async throws {
        for range in ranges where range.from < range.to {
            var reader = PartitionReader(log: self, topic: range.partition.topic, partition: range.partition.partition,
                                         from: range.from, to: range.to, batchSize: 2_000)
            while let records = try await reader.next() {
                try Task.checkCancellation()
                guard try body(BulkBatch(records: records, next: [range.partition: reader.position], finished: [])) else { return }
            }
            // Read to `to`, or the log had nothing more at the reader's position for now.
            guard try body(BulkBatch(records: [], next: [range.partition: reader.position], finished: [range.partition])) else { return }
        }
    }
}
