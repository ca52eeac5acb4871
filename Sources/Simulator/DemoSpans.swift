import EventModel

/// Where the demo sends the spans its services emit (e.g. an OTLP exporter). Called once per simulated
/// step with that step's spans, in the order they were made.
public typealias DemoSpanSink = @Sendable ([Span]) -> Void

/// OpenTelemetry spans of the demo's services, built from records and simulated time. Pure: the same
/// records and times give the same spans.
///
/// Every event published gets a PRODUCER span whose ids are the record's `traceparent`; every record a
/// service processes gets a CONSUMER span in the same trace, child of and linked to the producer span
/// (the message's creation context), with the events it publishes as its children. Both carry the
/// OpenTelemetry messaging attributes, with the order id as `messaging.message.conversation_id`.
/// A failed processing attempt has status error and an `exception` event.
enum DemoSpans {
    static func header(_ headers: [RecordHeader], _ name: String) -> String? {
        headers.last { $0.name == name }?.utf8Value
    }

    static func nanos(_ millis: Int64) -> UInt64 { UInt64(max(1, millis)) * 1_000_000 }

    static func messaging(system: String, operation: String, topic: String, messageID: String?, conversation: String?,
                          partition: Int32? = nil, offset: Int64? = nil, group: String? = nil) -> [SpanAttribute] {
        var attributes = [
            SpanAttribute("messaging.system", .string(system)),
            SpanAttribute("messaging.operation.type", .string(operation)),
            SpanAttribute("messaging.operation.name", .string(operation == "publish" ? "send" : "process")),
            SpanAttribute("messaging.destination.name", .string(topic)),
        ]
        if let messageID { attributes.append(SpanAttribute("messaging.message.id", .string(messageID))) }
        if let conversation { attributes.append(SpanAttribute("messaging.message.conversation_id", .string(conversation))) }
        if let group { attributes.append(SpanAttribute("messaging.consumer.group.name", .string(group))) }
        if let partition { attributes.append(SpanAttribute("messaging.destination.partition.id", .string(String(partition)))) }
        if let offset { attributes.append(SpanAttribute("messaging.kafka.offset", .int(offset))) }
        return attributes
    }

    /// The PRODUCER span of a record about to be published by `service` at `millis`.
    static func producer(_ record: OutgoingRecord, service: String, parent: String?, seed: UInt64,
                         system: String = "kafka") -> Span? {
        guard let context = record.traceParent else { return nil }
        let eventType = header(record.headers, DemoHeaders.eventType) ?? "event"
        let jitter = Int64(Mix.hash(seed, Mix.fnv(context.spanID), "publish") % 400)  // 0-0.4 ms
        let end = nanos(record.timestampMillis) - 100_000
        let start = end - min(end, 150_000 + UInt64(jitter) * 1_000)
        var attributes = messaging(system: system, operation: "publish", topic: record.topic,
                                   messageID: header(record.headers, DemoHeaders.eventID),
                                   conversation: header(record.headers, DemoHeaders.correlationID))
        attributes.append(SpanAttribute("event.type", .string(eventType)))
        return Span(traceID: context.traceID, spanID: context.spanID, parentSpanID: parent, service: service,
                    name: "\(record.topic) publish", kind: .producer, startUnixNano: start, endUnixNano: end,
                    status: SpanStatus(code: .unset), attributes: attributes)
    }

    /// The CONSUMER span of `service` processing `record` (produced with a traceparent) at `millis`;
    /// `spanID` is the new span's id, `failure` the error of a failed attempt. Partition and offset are
    /// Kafka's attributes only: a queue message has neither.
    static func consumer(_ record: Record, service: String, spanID: String, atMillis millis: Int64,
                         failure: (type: String, message: String, stack: String)?, seed: UInt64,
                         system: String = "kafka") -> Span? {
        guard let context = record.traceParent else { return nil }
        let eventType = header(record.headers, DemoHeaders.eventType) ?? "event"
        let conversation = header(record.headers, DemoHeaders.correlationID)
            ?? record.key.flatMap { String(validating: $0, as: UTF8.self) }
        let work = 1_000_000 + Mix.hash(seed, Mix.fnv(spanID), "process") % 3_000_000  // 1-4 ms
        let end = nanos(millis)
        let start = end - min(end, work)
        var span = Span(traceID: context.traceID, spanID: spanID, parentSpanID: context.spanID, service: service,
                        name: "\(record.topic) process", kind: .consumer, startUnixNano: start, endUnixNano: end,
                        attributes: messaging(system: system, operation: "process", topic: record.topic,
                                              messageID: header(record.headers, DemoHeaders.eventID),
                                              conversation: conversation,
                                              partition: system == "kafka" ? record.partition : nil,
                                              offset: system == "kafka" ? record.offset : nil, group: service)
                            + [SpanAttribute("event.type", .string(eventType))],
                        links: [SpanLink(traceID: context.traceID, spanID: context.spanID,
                                         attributes: [SpanAttribute("messaging.link", .string("creation"))])])
        if let failure {
            span.status = SpanStatus(code: .error, message: failure.message)
            span.events = [SpanEvent(timeUnixNano: end - 50_000, name: "exception", attributes: [
                SpanAttribute("exception.type", .string(failure.type)),
                SpanAttribute("exception.message", .string(failure.message)),
                SpanAttribute("exception.stacktrace", .string(failure.stack)),
            ])]
        } else {
            span.status = SpanStatus(code: .ok)
        }
        return span
    }
}
