import Foundation

/// Reads what a dead letter's headers say (Spring Kafka, Kafka Connect, evtop redrive).
///
/// Pure and total: any header bytes yield a `DeadLetter`; what cannot be read is left nil
/// and described in `DeadLetter.problems`. Like Kafka clients, a repeated header is read
/// from its last occurrence.
public enum DeadLetterParser {
    /// True when a record carries Spring Kafka or Kafka Connect dead-letter headers: what makes
    /// a topic whose name matches no DLQ pattern a dead-letter queue all the same.
    public static func hasDeadLetterHeaders(_ record: Record) -> Bool {
        record.headers.contains { h in
            h.name == DeadLetterHeaderNames.Spring.originalTopic || h.name == DeadLetterHeaderNames.Spring.exceptionFQCN
                || h.name == DeadLetterHeaderNames.Connect.topic || h.name == DeadLetterHeaderNames.Connect.exceptionClassName
                || h.name == DeadLetterHeaderNames.RabbitMQ.death
        }
    }

    /// Parses the dead-letter headers of `record`.
    public static func parse(_ record: Record) -> DeadLetter {
        typealias S = DeadLetterHeaderNames.Spring
        typealias C = DeadLetterHeaderNames.Connect
        typealias E = DeadLetterHeaderNames.Evtop

        var reader = DeadLetterHeaderReader(headers: record.headers)
        let hasSpring = record.headers.contains { $0.name.hasPrefix(S.prefix) || $0.name.hasPrefix(S.retryPrefix) }
        let hasConnect = record.headers.contains { $0.name.hasPrefix(C.prefix) }
        let hasEvtop = record.headers.contains { $0.name.hasPrefix(E.prefix) }
        typealias R = DeadLetterHeaderNames.RabbitMQ
        let hasRabbit = record.headers.contains { $0.name == R.death || $0.name.hasPrefix(R.firstDeathPrefix) }
        let convention: DeadLetter.Convention =
            hasSpring ? .springKafka : hasConnect ? .kafkaConnect : hasRabbit ? .rabbitMQ : hasEvtop ? .evtop : .unknown
        var letter = DeadLetter(record: record, convention: convention)
        if hasSpring && hasConnect {
            reader.note("both Spring Kafka and Kafka Connect dead-letter headers present; Spring's win where both say")
        }

        // Spring Kafka: numbers are big-endian binary (decimal text tolerated).
        let springTopic = reader.text(S.originalTopic)
        let springPartition = reader.integer(S.originalPartition, as: Int32.self, expect: .binary)
        let springOffset = reader.integer(S.originalOffset, as: Int64.self, expect: .binary)
        letter.originalTimestampMillis = reader.integer(S.originalTimestamp, as: Int64.self, expect: .binary,
                                                        allowNegative: true)  // -1 is Kafka's "no timestamp"
        letter.originalTimestampType = reader.text(S.originalTimestampType)
        letter.consumerGroup = reader.text(S.originalConsumerGroup)
        // A key that failed to deserialize gets the key-exception headers instead of the value ones.
        let springException = reader.text(S.exceptionFQCN)
        let springKeyException = reader.text(S.keyExceptionFQCN)
        let springCause = reader.text(S.exceptionCauseFQCN)
        let springKeyCause = reader.text(S.keyExceptionCauseFQCN)
        let springMessage = reader.text(S.exceptionMessage)
        let springKeyMessage = reader.text(S.keyExceptionMessage)
        let springTrace = reader.text(S.exceptionStacktrace)
        let springKeyTrace = reader.text(S.keyExceptionStacktrace)
        let retryAttempts = reader.attempts(S.retryAttempts)
        let dltAttempts = reader.attempts(S.attempts)

        // Kafka Connect: numbers are decimal text (binary tolerated).
        let connectTopic = reader.text(C.topic)
        let connectPartition = reader.integer(C.partition, as: Int32.self, expect: .text)
        let connectOffset = reader.integer(C.offset, as: Int64.self, expect: .text)
        letter.connectorName = reader.text(C.connectorName)
        letter.taskId = reader.text(C.taskID)
        letter.stage = reader.text(C.stage)
        letter.stageClass = reader.text(C.className)
        let connectException = reader.text(C.exceptionClassName)
        let connectMessage = reader.text(C.exceptionMessage)
        let connectTrace = reader.text(C.exceptionStacktrace)

        // RabbitMQ: the server's own record of where and why the message died.
        if hasRabbit {
            if let json = reader.text(R.death) {
                if let deaths = parseDeaths(json) { letter.deaths = deaths } else { reader.note("\(R.death): not the array of tables RabbitMQ writes") }
            }
            let firstQueue = reader.text(R.firstDeathQueue)
            let firstReason = reader.text(R.firstDeathReason)
            _ = reader.text(R.firstDeathExchange)
            let first = letter.deaths.last { $0.queue == firstQueue } ?? letter.deaths.last
            letter.originalTopic = firstQueue ?? first?.queue
            letter.exceptionClass = firstReason ?? first?.reason
            letter.attempts = letter.deaths.first(where: { $0.queue == letter.originalTopic })?.count.map { Int(clamping: $0) }
        }

        letter.originalTopic = letter.originalTopic ?? springTopic ?? connectTopic
        letter.originalPartition = springPartition ?? connectPartition
        letter.originalOffset = springOffset ?? connectOffset
        letter.exceptionClass = letter.exceptionClass ?? springException ?? springKeyException ?? connectException
        letter.causeClass = springCause ?? springKeyCause
        letter.exceptionMessage = springMessage ?? springKeyMessage ?? connectMessage
        letter.stackTrace = springTrace ?? springKeyTrace ?? connectTrace
        letter.attempts = letter.attempts ?? retryAttempts ?? dltAttempts

        // evtop's own redrive headers.
        letter.redriveID = reader.text(E.redriveID)
        if let from = reader.text(E.redrivenFrom) {
            letter.redrivenFrom = from
            letter.redrivenFromPosition = parsePosition(from)
            if letter.redrivenFromPosition == nil {
                reader.note("\(E.redrivenFrom): expected topic/partition/offset, got \(DeadLetterHeaderReader.preview(Array(from.utf8)))")
            }
        }
        if let at = reader.text(E.redrivenAt) {
            letter.redrivenAtMillis = parseMillis(at)
            if letter.redrivenAtMillis == nil {
                reader.note("\(E.redrivenAt): expected decimal milliseconds or ISO 8601, got \(DeadLetterHeaderReader.preview(Array(at.utf8)))")
            }
        }

        // Where the failed record came from is the point of a dead letter: say when it is not said.
        if record.headers.contains(where: { $0.name.hasPrefix(S.prefix) }) {
            for name in [S.originalTopic, S.originalPartition, S.originalOffset] where !reader.has(name) {
                reader.note("\(name) missing")
            }
        }
        if hasConnect {
            for name in [C.topic, C.partition, C.offset] where !reader.has(name) {
                reader.note("\(name) missing")
            }
        }
        letter.problems = reader.problems
        return letter
    }

    /// Parses `x-death` as evtop's RabbitMQ source hands it over: a JSON array of tables with `queue`,
    /// `reason`, `count`, `time` (seconds since the epoch), `exchange` and `routing-keys`. Nil when it is not one.
    static func parseDeaths(_ json: String) -> [DeadLetter.Death]? {
        guard let data = json.data(using: .utf8), json.utf8.count <= 1 << 20,
              let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return nil }
        var out: [DeadLetter.Death] = []
        for item in array.prefix(100) {
            guard let table = item as? [String: Any] else { return nil }
            func int(_ key: String) -> Int64? {
                guard let n = table[key] as? NSNumber, case let d = n.doubleValue, d.isFinite, abs(d) < 9e15 else { return nil }
                return Int64(d)
            }
            out.append(DeadLetter.Death(queue: table["queue"] as? String, reason: table["reason"] as? String, count: int("count"),
                                        timeMillis: int("time").map { $0.multipliedReportingOverflow(by: 1000).partialValue },
                                        exchange: table["exchange"] as? String,
                                        routingKeys: (table["routing-keys"] as? [Any])?.compactMap { $0 as? String } ?? []))
        }
        return out
    }

    /// Parses `topic/partition/offset`, splitting from the right since topic names may contain `/`.
    static func parsePosition(_ text: String) -> RecordPosition? {
        guard let offsetSlash = text.lastIndex(of: "/") else { return nil }
        let head = text[..<offsetSlash]
        guard let partitionSlash = head.lastIndex(of: "/") else { return nil }
        let topic = String(head[..<partitionSlash])
        let partitionText = head[head.index(after: partitionSlash)...]
        let offsetText = text[text.index(after: offsetSlash)...]
        guard !topic.isEmpty,
              let partition = Int32(partitionText), partition >= 0,
              let offset = Int64(offsetText), offset >= 0 else { return nil }
        return RecordPosition(topic: topic, partition: partition, offset: offset)
    }

    /// Milliseconds since the epoch from decimal text or ISO 8601 (with or without fractional seconds).
    static func parseMillis(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let digits = DeadLetterHeaderReader.decimalText(Array(trimmed.utf8)) { return Int64(digits) }
        let styles = [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()]
        for style in styles {
            guard let date = try? style.parse(trimmed) else { continue }
            let millis = (date.timeIntervalSince1970 * 1000).rounded()
            guard millis.isFinite, abs(millis) < 9.0e18 else { return nil }
            return Int64(millis)
        }
        return nil
    }
}

/// Reads headers the Kafka way (last occurrence wins) and collects problems as it goes.
struct DeadLetterHeaderReader {
    /// How a producer is expected to encode a number.
    enum NumberEncoding { case binary, text }

    private let values: [String: [[UInt8]]]
    private var reportedDuplicates: Set<String> = []
    private(set) var problems: [String] = []

    init(headers: [RecordHeader]) {
        var values: [String: [[UInt8]]] = [:]
        for header in headers { values[header.name, default: []].append(header.value) }
        self.values = values
    }

    mutating func note(_ problem: String) { problems.append(problem) }

    /// True when `name` occurs at least once.
    func has(_ name: String) -> Bool { values[name] != nil }

    /// The last value of `name`, noting (once) when it occurs more than once.
    mutating func bytes(_ name: String) -> [UInt8]? {
        guard let all = values[name], let last = all.last else { return nil }
        if all.count > 1, reportedDuplicates.insert(name).inserted {
            let differ = Set(all).count > 1 ? "values differ" : "identical values"
            note("\(name) appears \(all.count) times (\(differ)); using the last")
        }
        return last
    }

    /// A UTF-8 text header; empty means absent; invalid UTF-8 is decoded lossily and noted.
    mutating func text(_ name: String) -> String? {
        guard let raw = bytes(name), !raw.isEmpty else { return nil }
        if let text = String(validating: raw, as: UTF8.self) { return text }
        note("\(name): not valid UTF-8; shown with replacement characters")
        return String(decoding: raw, as: UTF8.self)
    }

    /// A number header: decimal text, or big-endian binary of exactly `T`'s width.
    ///
    /// Text is tried first: a binary partition, offset or timestamp whose every byte is an
    /// ASCII digit would be at least 0x3030_3030 (808 million), which no realistic value is.
    mutating func integer<T: FixedWidthInteger & SignedInteger>(_ name: String, as _: T.Type,
                                                                  expect: NumberEncoding,
                                                                  allowNegative: Bool = false) -> T? {
        guard let raw = bytes(name) else { return nil }
        let width = T.bitWidth / 8
        let value: T
        if raw.isEmpty {
            note("\(name): empty value")
            return nil
        } else if let digits = Self.decimalText(raw) {
            guard let parsed = T(digits) else {
                note("\(name): \(Self.preview(raw)) is out of range for \(T.self)")
                return nil
            }
            value = parsed
        } else if raw.count == width {
            value = T(truncatingIfNeeded: Self.bigEndian(raw))
            if expect == .text {
                note("\(name): \(width)-byte binary value where Kafka Connect writes decimal text; read as big-endian")
            }
        } else {
            switch expect {
            case .binary:
                note("\(name): expected \(width)-byte big-endian \(T.self) or decimal text, got \(raw.count) bytes \(Self.preview(raw))")
            case .text:
                note("\(name): expected decimal text, got \(Self.preview(raw))")
            }
            return nil
        }
        if value < 0, !allowNegative {
            note("\(name): negative value \(value)")
        }
        return value
    }

    /// Spring's attempts count: 4-byte big-endian int, 1 byte in early versions, or decimal text.
    mutating func attempts(_ name: String) -> Int? {
        guard let raw = bytes(name) else { return nil }
        if let digits = Self.decimalText(raw) {
            if let n = Int(digits) { return n }
            note("\(name): \(Self.preview(raw)) is out of range")
            return nil
        }
        switch raw.count {
        case 4: return Int(Int32(truncatingIfNeeded: Self.bigEndian(raw)))
        case 1: return Int(raw[0])
        default:
            note("\(name): expected 4-byte big-endian int or decimal text, got \(raw.count) bytes \(Self.preview(raw))")
            return nil
        }
    }

    /// The ASCII decimal number in `raw` (optional sign, surrounding whitespace allowed), or nil.
    static func decimalText(_ raw: [UInt8]) -> String? {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = raw.firstIndex(where: { !isSpace($0) }),
              let last = raw.lastIndex(where: { !isSpace($0) }) else { return nil }
        var body = raw[first...last]
        var sign = ""
        if let s = body.first, s == UInt8(ascii: "-") || s == UInt8(ascii: "+") {
            sign = s == UInt8(ascii: "-") ? "-" : ""
            body = body.dropFirst()
        }
        guard !body.isEmpty, body.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return sign + String(decoding: body, as: UTF8.self)
    }

    /// `raw` read as an unsigned big-endian number (callers pass at most 8 bytes).
    static func bigEndian(_ raw: [UInt8]) -> UInt64 {
        raw.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// A short printable rendering of a value for problem notes: quoted text or hex bytes.
    static func preview(_ raw: [UInt8]) -> String {
        let limit = 24
        if let text = String(validating: raw, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
            return "\"\(cut)\""
        }
        let hex = raw.prefix(limit).map { byte -> String in
            String([hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
        }.joined(separator: " ")
        return "[" + hex + (raw.count > limit ? " …" : "") + "]"
    }
}
