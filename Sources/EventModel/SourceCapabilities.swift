import Foundation

// A source says what it can do through these capabilities; the app asks for a capability
// (an optional on the opened source) and never casts to a concrete type. See BrokerMapping in
// the EventModel docs for how each broker's facts map onto them.

/// A position in one partition's log: ordered, and opaque to everything but the source that gave it.
///
/// A Kafka offset, a stream offset (RabbitMQ streams), a stream sequence (JetStream) or an entry id
/// (Redis Streams, whose source maps `ms-seq` onto an ordered 64-bit value). Readers only compare
/// positions and continue from the one `read` returns: they never compute `last + 1` themselves.
public typealias LogPosition = Int64

/// Reading a broker's log: what every source has.
public protocol LogReader: Sendable {
    /// The source as the user named it (e.g. `sqlite:/tmp/demo.db`), without secrets.
    var sourceDescription: String { get }

    /// Topics, partitions and watermarks (or depths), plus consumer groups and their positions or
    /// reported lag. O(partitions): never reads records.
    func snapshot() async throws -> BrokerSnapshot

    /// One topic's partitions and watermarks; `BrokerError.unknownTopic` when it does not exist.
    /// The default takes a whole snapshot; connectors answer it more cheaply.
    func watermarks(topic: String) async throws -> TopicInfo

    /// Reads up to `maxRecords` records of one partition starting at `position`, and says where to
    /// continue. That can be past the last record: in Kafka a transaction's commit marker takes an
    /// offset but is no record, and a reader that only followed records would wait at it forever.
    /// Walk a partition with ``PartitionReader``-style loops that always continue from `next`.
    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws
        -> (records: [Record], next: LogPosition)

    /// A stable identity: what the source's redrive journal and correlation index are named after.
    /// Nil while the source cannot tell it yet (a Kafka cluster that has not answered): never guess one.
    func identity() async -> SourceIdentity?

    /// Reads many partition ranges and hands the records to `body` in batches as they come: each
    /// partition's records in order, no order across partitions. `body` runs on the reading thread and
    /// returns false to stop early. What the correlation index reads with; every source has it (a default
    /// walks the ranges through `read`), a source with a faster path provides its own.
    func readRanges(_ ranges: [ReadRange], body: @escaping @Sendable (BulkBatch) throws -> Bool) async throws

    /// The first position in `[low, high)` of a partition whose record was written at or after `millis`, or
    /// `high` when every record is older: where a seek by time starts. Every source has it (a default
    /// halves the range with one-record reads); a source with a time index answers from it.
    func position(topic: String, partition: Int32, atMillis millis: Int64, low: LogPosition, high: LogPosition) async throws -> LogPosition

    /// True when every position between a partition's watermarks holds one record, so that positions
    /// counted are records counted (the embedded store). False by default: in Kafka a transaction's commit
    /// marker takes a position, and compaction leaves positions empty.
    var positionsHoldRecords: Bool { get }
}

extension LogReader {
    /// Positions may be empty unless the source says otherwise.
    public var positionsHoldRecords: Bool { false }
}

/// Writing to a broker's log.
public protocol LogWriter: Sendable {
    /// True when the broker deduplicates a producer's retries (Kafka's idempotent producer, the
    /// embedded store's single transaction): redrive relies on its own journal either way.
    var producesIdempotently: Bool { get }

    /// Appends records in order per partition; returns where each landed.
    @discardableResult
    func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition]
}

/// What the demo simulator needs besides reading and writing: only the simulator uses it.
public protocol DemoSetup: Sendable {
    /// Creates a topic if it does not exist; an existing topic keeps its partitions.
    func createTopic(_ name: String, partitions: Int32) async throws

    /// Commits a group's positions (the next position to read per partition) and marks `member`
    /// alive. Empty `offsets` is a heartbeat: the member is alive, nothing is committed.
    func commit(group: String, member: String, offsets: [TopicPartition: LogPosition]) async throws
}

/// A log that can be read and written: what redrive and replay need.
public typealias WritableLog = LogReader & LogWriter

/// A log the demo simulator can run on.
public typealias DemoLog = LogReader & LogWriter & DemoSetup

/// What a source's local files (redrive journal, correlation index) are named after.
public struct SourceIdentity: Sendable, Hashable {
    /// A file-name-safe stable name, such as `kafka-CLUSTERID`: one name per cluster however its
    /// servers are spelled.
    public var stem: String
    /// For a source that is itself a local file (the embedded store): its path. Its correlation index
    /// lives inside it; its journal, like every source's, is named after `stem`.
    public var storeFile: String?
    /// Where older evtop versions kept this source's journal (beside a store file, named after the
    /// path it was reached by): taken in on first use, so nothing redriven then is redriven again.
    public var formerJournals: [String]
    /// True when the source could not say a stable id (a store from an older evtop, opened read-only,
    /// has none yet): nothing may be named after `stem`, only the former journals read.
    public var isProvisional: Bool

    /// Creates an identity; characters other than letters, digits, `.` and `-` in `stem` become `_`.
    public init(stem: String, storeFile: String? = nil, formerJournals: [String] = [], isProvisional: Bool = false) {
        self.stem = String(stem.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        self.storeFile = storeFile
        self.formerJournals = formerJournals
        self.isProvisional = isProvisional
    }
}

extension LogReader {
    /// One topic's partitions and watermarks, from a whole snapshot.
    public func watermarks(topic: String) async throws -> TopicInfo {
        guard let info = try await snapshot().topics.first(where: { $0.name == topic }) else {
            throw BrokerError.unknownTopic(topic)
        }
        return info
    }

    /// The records of one ``read(topic:partition:from:maxRecords:)`` batch, without where to go on:
    /// for looking at a known position. Loops must use `read` and continue from its `next`.
    public func fetch(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> [Record] {
        try await read(topic: topic, partition: partition, from: position, maxRecords: maxRecords).records
    }
}

/// A source that is a recording of another (an incident file): its clock does not run, the operator moves
/// it. What it answers (snapshots, reads) is what the recorded source showed at that moment.
public protocol Playback: Sendable {
    /// The first and the last recorded moment.
    var recorded: ClosedRange<Date> { get }
    /// The moment shown now.
    var clock: Date { get }
    /// What the recording left out, when anything did (for the status line).
    var omissions: String? { get }
    /// Moves the clock to `time` (kept within ``recorded``) and returns the recorded snapshots of the `history`
    /// seconds up to it, oldest first: what rates, charts and lag trends are computed from again.
    func move(to time: Date, history: TimeInterval) throws -> (clock: Date, snapshots: [BrokerSnapshot])
}
