import Foundation
import EventModel

/// Writing and reading the demo's event records: key = order id, a JSON value with sorted keys and
/// the standard fields, and the standard headers (correlation id, event type and id, schema version,
/// content type, W3C `traceparent`). Writing is deterministic: ids follow the seed and a counter.
struct DemoEventCodec: Sendable {
    /// In a field value, replaced by raw bytes when an event is built with `raw` (hostile poison).
    static let rawMarker = "@@RAW@@"

    let seed: UInt64
    private var eventCounter: UInt64 = 0

    init(seed: UInt64) {
        self.seed = seed
    }

    /// Builds one event record. `raw` bytes, when given, replace the `rawMarker` string content verbatim.
    mutating func event(_ type: DemoEventType, orderID: String, fields: [String: JSONScalar], at millis: Int64,
                        schemaVersion: Int? = nil, raw: [UInt8]? = nil) -> OutgoingRecord {
        event(named: type.rawValue, on: type.topic, orderID: orderID, fields: fields, at: millis,
              schemaVersion: schemaVersion ?? type.schemaVersion, raw: raw)
    }

    /// Builds one event record of any type name on any topic (the `command-events` fault writes types
    /// that are not `DemoEventType`s); otherwise as `event(_:orderID:fields:at:schemaVersion:raw:)`.
    mutating func event(named typeName: String, on topic: String, orderID: String, fields: [String: JSONScalar],
                        at millis: Int64, schemaVersion schema: Int, raw: [UInt8]? = nil) -> OutgoingRecord {
        eventCounter &+= 1
        let eventID = "e-" + Mix.hex(Mix.mix64(eventCounter &+ Mix.mix64(seed)), width: 16)
        var all = fields
        all["eventType"] = .string(typeName)
        all["eventId"] = .string(eventID)
        all["schemaVersion"] = .int(Int64(schema))
        all["timestamp"] = .string(TimeText.iso8601(millis: millis))
        all["correlationId"] = .string(orderID)
        all["orderId"] = .string(orderID)
        let text = JSONText.object(all)
        var value = Array(text.utf8)
        if let raw, let range = text.range(of: Self.rawMarker) {
            value = Array(text[..<range.lowerBound].utf8) + raw + Array(text[range.upperBound...].utf8)
        }
        let subject = Mix.fnv(orderID)
        let traceID = Mix.hex(Mix.hash(seed, subject, "trace-hi"), width: 16) + Mix.hex(Mix.hash(seed, subject, "trace-lo"), width: 16)
        let spanID = Mix.hex(Mix.mix64(eventCounter ^ 0x5DEE_CE66_D1CE_4E5B) | 1, width: 16)
        var headers = [
            RecordHeader(DemoHeaders.correlationID, orderID),
            RecordHeader(DemoHeaders.eventType, typeName),
            RecordHeader(DemoHeaders.eventID, eventID),
            RecordHeader(DemoHeaders.schemaVersion, String(schema)),
            RecordHeader(DemoHeaders.contentType, "application/json"),
        ]
        if let context = TraceParent(traceID: traceID, spanID: spanID) {  // nil only for an all-zero hash
            headers.append(RecordHeader(TraceParent.headerName, context.header))
        }
        return OutgoingRecord(topic: topic, timestampMillis: millis, key: Array(orderID.utf8),
                              headers: headers, value: value)
    }

    /// The event type a record's header names, if it is one of the demo's.
    static func eventType(of record: Record) -> DemoEventType? {
        record.header(DemoHeaders.eventType)?.utf8Value.flatMap(DemoEventType.init(rawValue:))
    }

    /// Reads a record's payload as a consumer would, failing as a Java consumer's deserializer would
    /// on bytes that are not UTF-8, control characters, invalid JSON or a schema it does not know.
    static func decode(_ record: Record) -> Result<EventEnvelope, DemoFailure> {
        guard let value = record.value, !value.isEmpty else { return .failure(.malformedJSON()) }
        if let bad = UTF8Check.firstInvalid(value) {
            let byte = bad.index < value.count ? value[bad.index] : 0
            return .failure(.invalidUTF8(byte: byte, middle: bad.middle, column: bad.index + 1))
        }
        if let i = value.firstIndex(where: { $0 < 0x20 }) {
            return .failure(.controlCharacter(code: value[i], column: i + 1))
        }
        guard let env = try? JSONDecoder().decode(EventEnvelope.self, from: Data(value)) else {
            return .failure(.malformedJSON())
        }
        if let v = env.schemaVersion, v > 2 {
            return .failure(.unsupportedSchema(v, eventType: env.eventType ?? "event"))
        }
        return .success(env)
    }
}
