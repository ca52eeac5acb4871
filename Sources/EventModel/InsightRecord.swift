import Foundation

/// What the insights rules read of one sampled record: its position, identity fields, shape and size.
/// The payload itself is not kept, so a sample costs a few hundred bytes whatever the record's size.
public struct InsightRecord: Sendable, Hashable {
    /// Where it is.
    public var position: RecordPosition
    /// Its timestamp, ms.
    public var timestampMillis: Int64
    /// The event id (header or payload), if any.
    public var eventID: String?
    /// The correlation id, by the configured rules.
    public var correlationID: String?
    /// The event type, by the configured rules.
    public var eventType: String?
    /// The schema version (header or payload), if any.
    public var schemaVersion: String?
    /// The payload's top-level JSON field names, sorted (nil: not a JSON object, or too large to read).
    public var fields: [String]?
    /// Bytes of the value.
    public var valueBytes: Int
    /// True when a header asks for a reply (`reply-to`, Spring's `kafka_replyTopic`, AMQP's reply-to).
    public var asksForReply: Bool
    /// The `evtop-redrive-id` header: the record is a requeued letter.
    public var redriveID: String?

    /// Headers naming an event id, tried in order.
    public static let eventIDHeaders = ["event-id", "eventId", "event_id", "ce_id", "message-id", "messageId", "amqp.message-id", "id"]
    /// JSON pointers naming an event id, tried after the headers.
    public static let eventIDPointers = ["/eventId", "/event_id", "/id", "/metadata/eventId"]
    /// Headers naming a schema version.
    public static let versionHeaders = ["schema-version", "schemaVersion", "schema_version", "version", "ce_dataschema"]
    /// JSON pointers naming a schema version.
    public static let versionPointers = ["/schemaVersion", "/schema_version", "/version", "/metadata/schemaVersion"]
    /// Headers asking for a reply.
    public static let replyHeaders = ["reply-to", "replyTo", "reply_to", "kafka_replyTopic", "amqp.reply-to"]
    /// Largest value whose top-level fields are read (bigger ones are sampled for size only).
    public static let maxShapeBytes = 64 * 1024

    private static let pointerPlan = JSONScanner.Plan((eventIDPointers + versionPointers).compactMap(JSONPointer.init))

    /// Reads what the rules need from a record.
    public init(_ record: Record, rules: CorrelationRules) {
        position = RecordPosition(topic: record.topic, partition: record.partition, offset: record.offset)
        timestampMillis = record.timestampMillis
        let extraction = rules.extract(record)
        correlationID = extraction.correlationID
        eventType = extraction.eventType
        let value = record.value ?? []
        valueBytes = value.count
        func header(_ names: [String]) -> String? {
            for name in names {
                if let text = record.header(name)?.utf8Value.flatMap(CorrelationRules.accept) { return text }
            }
            return nil
        }
        var eventID = header(Self.eventIDHeaders)
        var version = header(Self.versionHeaders)
        fields = nil
        if value.count <= CorrelationRules.maxJSONBytes, value.first(where: { !Self.isSpace($0) }) == UInt8(ascii: "{") {
            // One pass for the pointers and the top-level fields, answering what a JSONSerialization decode
            // would (JSONScanner's contract; the tests hold both to it).
            if let scanned = JSONScanner.resolveWithKeys(Self.pointerPlan, in: value) {
                let found = scanned.results
                let ids = Self.eventIDPointers.count
                if eventID == nil { eventID = found.prefix(ids).lazy.compactMap { CorrelationRules.accept($0) }.first }
                if version == nil { version = found.dropFirst(ids).lazy.compactMap { CorrelationRules.accept($0) }.first }
                if value.count <= Self.maxShapeBytes { fields = scanned.keys }
            }
        }
        self.eventID = eventID
        schemaVersion = version
        asksForReply = Self.replyHeaders.contains { record.header($0) != nil }
        redriveID = record.header(DeadLetterHeaderNames.Evtop.redriveID)?.utf8Value
    }

    /// Creates a sample from its parts (tests, fixtures).
    public init(position: RecordPosition, timestampMillis: Int64, eventID: String? = nil, correlationID: String? = nil,
                eventType: String? = nil, schemaVersion: String? = nil, fields: [String]? = nil, valueBytes: Int = 100,
                asksForReply: Bool = false, redriveID: String? = nil) {
        self.position = position
        self.timestampMillis = timestampMillis
        self.eventID = eventID
        self.correlationID = correlationID
        self.eventType = eventType
        self.schemaVersion = schemaVersion
        self.fields = fields
        self.valueBytes = valueBytes
        self.asksForReply = asksForReply
        self.redriveID = redriveID
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
