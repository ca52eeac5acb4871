import Foundation

/// A dictionary that forgets its oldest keys beyond a capacity: bounded memory for "seen before?" questions.
struct BoundedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private(set) var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    subscript(key: Key) -> Value? { values[key] }

    /// Stores a value; a new key beyond the capacity evicts the oldest.
    mutating func set(_ key: Key, _ value: Value) {
        if values.updateValue(value, forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            values.removeValue(forKey: order[head])
            order[head] = key
            head = (head + 1) % capacity
        }
    }

    var count: Int { values.count }
}

/// An id as the insights windows remember it: its 64-bit hash, not its text. A window holds 20,000 ids per
/// topic and kind, and an id's text (a UUID is 36 bytes on the heap) cost more than the rest of its entry.
/// A new id takes the hash of one of the 20,000 remembered with odds of about 1 in 10^15.
struct RememberedID: Hashable, Sendable {
    let hash: Int
    init(_ id: String) { hash = id.hashValue }
}

/// A record's place within its topic (the window is the topic's): partition and offset, without the name.
struct PlaceInTopic: Hashable, Sendable {
    let partition: Int32
    let offset: Int64
    init(_ position: RecordPosition) {
        partition = position.partition
        offset = position.offset
    }
}

/// What the insights rules learned from the records sampled so far, one topic.
struct TopicInsightStats: Sendable {
    var sampled = 0
    var missingEventID = 0
    var missingCorrelationID = 0
    var missingType = 0
    var missingVersion = 0
    var missingExample: RecordPosition?
    /// Event ids seen at two positions.
    var duplicates: RepeatedIDs
    /// Redrive ids seen at two positions (a letter requeued twice).
    var redrivenTwice: RepeatedIDs
    var fat = 0
    var largest = 0
    var fatExamples: [InsightEvidenceItem] = []
    var replyAsks = 0
    var replyExamples: [InsightEvidenceItem] = []
    var correlationPartitions: BoundedMap<RememberedID, CorrelationSpread>
    var spreadIDs = 0
    var spreadExamples: [InsightEvidenceItem] = []

    init(capacity: Int) {
        duplicates = RepeatedIDs(label: "event-id", capacity: capacity)
        redrivenTwice = RepeatedIDs(label: "redrive id", capacity: capacity)
        correlationPartitions = BoundedMap(capacity: capacity)
    }
}

/// Ids of one kind seen on a topic, and those seen again at another position: how many, and the first few.
struct RepeatedIDs: Sendable {
    let label: String
    private var first: BoundedMap<RememberedID, PlaceInTopic>
    private(set) var count = 0
    private(set) var examples: [InsightEvidenceItem] = []

    init(label: String, capacity: Int) {
        self.label = label
        first = BoundedMap(capacity: capacity)
    }

    /// Notes `id` at `r`'s position; the same record seen twice is one record, not a repeat.
    mutating func see(_ id: String, in r: InsightRecord) {
        let key = RememberedID(id), place = PlaceInTopic(r.position)
        guard let earlier = first[key] else { first.set(key, place); return }
        guard earlier != place else { return }
        count += 1
        if examples.count < InsightFinding.maxEvidence {
            examples.append(InsightEvidenceItem(.record(r.position), "\(label) \(InsightAnalyzer.short(id)) also at p\(earlier.partition)@\(earlier.offset)",
                                                correlationID: r.correlationID))
        }
    }
}

/// Where one correlation id was first seen on a topic, and whether it was already counted as spread.
struct CorrelationSpread: Sendable {
    var first: PlaceInTopic
    var counted: Bool
}

/// What the rules learned about one event type.
struct EventTypeStats: Sendable {
    var topic: String
    var count = 0
    var versions: [String: Int] = [:]
    var versionExamples: [String: RecordPosition] = [:]
    /// Top-level field sets per version (at most `maxShapes` per type).
    var shapes: [String: [[String]: Int]] = [:]
    var shapeExamples: [[String]: RecordPosition] = [:]
    var first: RecordPosition

    static let maxShapes = 16
}

/// The insights analysis: pure, incremental and bounded. Sampled records go in through ``ingest(_:)``
/// (cost O(records)), snapshots through ``observe(_:)`` (O(partitions)); ``evaluate(_:)`` turns what was
/// learned and the current figures into findings (O(topics + partitions + event types + sagas + letters)).
/// It reads no clock and does no I/O: the time comes with the inputs.
public struct InsightAnalyzer: Sendable {
    /// Thresholds, disabled rules, suppressions.
    public var settings: InsightSettings
    /// Records sampled since the start.
    public private(set) var sampledRecords = 0
    /// When the first sample or snapshot arrived, ms.
    public private(set) var sinceMillis: Int64?
    /// Latest snapshot time seen, ms.
    public private(set) var lastSnapshotMillis: Int64?
    /// Topics that were sampled after ``maxTopics`` were tracked (counted, not analysed).
    public private(set) var untrackedTopics = 0

    var topics: [String: TopicInsightStats] = [:]
    var types: [String: EventTypeStats] = [:]
    /// Per partition: the first low watermark seen and when; the latest and when (retention's pace).
    var lows: [TopicPartition: (first: Int64, firstMillis: Int64, last: Int64, lastMillis: Int64)] = [:]
    /// Per DLQ topic: retained at the first snapshot and when it last grew.
    var deadLetterGrowth: [String: (retained: Int64, grewAtMillis: Int64?)] = [:]

    /// Event ids and correlation ids remembered per topic.
    public static let idsPerTopic = 20_000
    /// Topics analysed; beyond, samples are counted only (bounded memory on clusters of many topics).
    public static let maxTopics = 5_000
    /// Event types tracked.
    public static let maxTypes = 2_000

    /// An analyzer with no samples.
    public init(settings: InsightSettings = InsightSettings()) {
        self.settings = settings
    }

    /// True until a record was sampled.
    public var isEmpty: Bool { sampledRecords == 0 }

    /// Takes in sampled records (records of DLQ topics are skipped: they are copies, judged as letters).
    public mutating func ingest(_ records: [InsightRecord], deadLetterTopics: Set<String> = []) {
        for record in records where !deadLetterTopics.contains(record.position.topic) {
            ingest(record)
        }
    }

    private mutating func ingest(_ r: InsightRecord) {
        sampledRecords += 1
        if sinceMillis == nil { sinceMillis = r.timestampMillis }
        let topic = r.position.topic
        if topics[topic] == nil {
            guard topics.count < Self.maxTopics else { untrackedTopics += 1; return }
            topics[topic] = TopicInsightStats(capacity: Self.idsPerTopic)
        }
        guard var s = topics[topic] else { return }
        topics[topic] = nil  // no copy-on-write copy of the stats while they change
        s.sampled += 1
        if r.eventID == nil { s.missingEventID += 1 }
        if r.correlationID == nil { s.missingCorrelationID += 1 }
        if r.eventType == nil { s.missingType += 1 }
        if r.schemaVersion == nil { s.missingVersion += 1 }
        if s.missingExample == nil, r.eventID == nil || r.correlationID == nil || r.eventType == nil || r.schemaVersion == nil {
            s.missingExample = r.position
        }
        if let id = r.eventID { s.duplicates.see(id, in: r) }
        if let id = r.redriveID { s.redrivenTwice.see(id, in: r) }
        if r.valueBytes > settings.fatEventBytes {
            s.fat += 1
            if s.fatExamples.count < InsightFinding.maxEvidence {
                s.fatExamples.append(InsightEvidenceItem(.record(r.position), InsightText.bytes(r.valueBytes) + (r.eventType.map { " " + $0 } ?? ""),
                                                          correlationID: r.correlationID))
            }
        }
        s.largest = max(s.largest, r.valueBytes)
        if r.asksForReply {
            s.replyAsks += 1
            if s.replyExamples.count < InsightFinding.maxEvidence {
                s.replyExamples.append(InsightEvidenceItem(.record(r.position), "asks for a reply" + (r.eventType.map { ": " + $0 } ?? ""),
                                                            correlationID: r.correlationID))
            }
        }
        if let id = r.correlationID {
            let key = RememberedID(id)
            if var spread = s.correlationPartitions[key] {
                if spread.first.partition != r.position.partition, !spread.counted {
                    spread.counted = true
                    s.correlationPartitions.set(key, spread)
                    s.spreadIDs += 1
                    if s.spreadExamples.count < InsightFinding.maxEvidence {
                        s.spreadExamples.append(InsightEvidenceItem(.record(r.position),
                                                                    "\(Self.short(id)) on p\(r.position.partition), earlier on p\(spread.first.partition)@\(spread.first.offset)",
                                                                    correlationID: id))
                    }
                }
            } else {
                s.correlationPartitions.set(key, CorrelationSpread(first: PlaceInTopic(r.position), counted: false))
            }
        }
        topics[topic] = s
        if let type = r.eventType { ingestType(type, r) }
    }

    private mutating func ingestType(_ type: String, _ r: InsightRecord) {
        if types[type] == nil {
            guard types.count < Self.maxTypes else { return }
            types[type] = EventTypeStats(topic: r.position.topic, first: r.position)
        }
        guard var t = types[type] else { return }
        types[type] = nil
        t.count += 1
        let version = r.schemaVersion ?? "none"
        t.versions[version, default: 0] += 1
        if t.versionExamples[version] == nil { t.versionExamples[version] = r.position }
        if let fields = r.fields {
            var shapes = t.shapes[version, default: [:]]
            if shapes[fields] != nil || shapes.count < EventTypeStats.maxShapes {
                shapes[fields, default: 0] += 1
                if t.shapeExamples[fields] == nil { t.shapeExamples[fields] = r.position }
            }
            t.shapes[version] = shapes
        }
        types[type] = t
    }

    /// Takes in a snapshot: how fast retention moves each partition's low watermark, and how each DLQ grows
    /// (a DLQ by the broker's word or by `isDeadLetterTopic`: the context's patterns and detected headers).
    public mutating func observe(_ snapshot: BrokerSnapshot, isDeadLetterTopic: (String) -> Bool = { _ in false }) {
        let now = Int64(snapshot.time.timeIntervalSince1970 * 1000)
        if sinceMillis == nil { sinceMillis = now }
        lastSnapshotMillis = now
        for topic in snapshot.topics {
            for p in topic.partitions where p.hasPositions {
                let key = TopicPartition(topic.name, p.partition)
                if var seen = lows[key] {
                    if p.low != seen.last { seen.last = p.low; seen.lastMillis = now }
                    lows[key] = seen
                } else {
                    lows[key] = (p.low, now, p.low, now)
                }
            }
            if snapshot.deadLetterTopics.contains(topic.name) || isDeadLetterTopic(topic.name) {
                let retained = topic.retained
                if let seen = deadLetterGrowth[topic.name] {
                    deadLetterGrowth[topic.name] = (retained, retained > seen.retained ? now : seen.grewAtMillis)
                } else {
                    deadLetterGrowth[topic.name] = (retained, nil)
                }
            }
        }
    }

    /// `e-8e8e…`: ids shortened for one-line evidence.
    static func short(_ id: String) -> String {
        id.count <= 14 ? id : String(id.prefix(13)) + "…"
    }
}
