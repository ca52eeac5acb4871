import Foundation

/// A JSON pointer (RFC 6901), e.g. `/payload/orderId`: `~1` stands for `/` and `~0` for `~`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The reference tokens, unescaped.
    public let tokens: [String]
    /// The pointer as written.
    public let text: String

    /// Parses a pointer; nil unless it is empty (the whole document) or starts with `/` and every `~` escape is valid.
    public init?(_ text: String) {
        self.text = text
        if text.isEmpty { tokens = []; return }
        guard text.hasPrefix("/") else { return nil }
        var out: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var chars = raw.makeIterator()
            while let c = chars.next() {
                if c == "~" {
                    switch chars.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                } else {
                    token.append(c)
                }
            }
            out.append(token)
        }
        tokens = out
    }

    /// The pointer as written.
    public var description: String { text }
}

/// Where a record's or span's correlation ID (and a record's event type) is found: ordered rules,
/// the first that yields a value wins (docs/sagas.md). Pure: payloads are parsed here, never fetched.
public struct CorrelationRules: Sendable, Hashable {
    /// One place to look.
    public enum Rule: Sendable, Hashable, CustomStringConvertible {
        /// A record header, by exact name; the value must be UTF-8.
        case header(String)
        /// A JSON pointer into the record value; values that are not JSON (or not UTF-8) do not match.
        case jsonPointer(JSONPointer)
        /// A span attribute with a string (or integer) value.
        case spanAttribute(String)

        /// `header:correlation-id`, `json:/payload/orderId`, `span:messaging.message.conversation_id`.
        public var description: String {
            switch self {
            case .header(let h): return "header:\(h)"
            case .jsonPointer(let p): return "json:\(p.text)"
            case .spanAttribute(let a): return "span:\(a)"
            }
        }
    }

    /// Header names tried first, in order.
    public static let defaultHeaders = ["correlation-id", "correlationId", "x-correlation-id", "$correlationId", "amqp.correlation-id"]
    /// JSON pointers tried after the headers.
    public static let defaultPointers = ["/correlationId", "/correlation_id", "/payload/correlationId"]
    /// Span attributes carrying the conversation (correlation) id: the current name, then the older one.
    public static let defaultSpanAttributes = ["messaging.message.conversation_id", "messaging.conversation_id"]
    /// Headers naming a record's event type.
    public static let defaultEventTypeHeaders = ["event-type", "eventType", "type", "ce_type", "amqp.type"]
    /// JSON pointers naming a record's event type.
    public static let defaultEventTypePointers = ["/type", "/eventType"]
    /// Longest correlation ID or event type kept (bytes); longer values do not match (bounded index rows).
    public static let maxValueBytes = 256
    /// Largest payload parsed as JSON; bigger values do not match the JSON rules.
    public static let maxJSONBytes = 256 * 1024

    /// Rules for the correlation ID, tried in order.
    public var correlation: [Rule] { didSet { plans = Self.plans(correlation, eventType) } }
    /// Rules for the event type, tried in order.
    public var eventType: [Rule] { didSet { plans = Self.plans(correlation, eventType) } }
    /// The JSON pointers of `correlation`, then those of `eventType`, prepared for one scan of a value
    /// (derived from the rules, so equal rules have equal plans).
    private var plans: [JSONScanner.Plan]

    /// Creates rules from explicit lists.
    public init(correlation: [Rule], eventType: [Rule]) {
        self.correlation = correlation
        self.eventType = eventType
        plans = Self.plans(correlation, eventType)
    }

    private static func plans(_ correlation: [Rule], _ eventType: [Rule]) -> [JSONScanner.Plan] {
        JSONScanner.plans((correlation + eventType).compactMap { rule in
            if case .jsonPointer(let p) = rule { return p }
            return nil
        })
    }

    /// The defaults (docs/sagas.md).
    public static let `default` = CorrelationRules(
        correlation: defaultHeaders.map(Rule.header) + defaultPointers.compactMap(JSONPointer.init).map(Rule.jsonPointer)
            + defaultSpanAttributes.map(Rule.spanAttribute),
        eventType: defaultEventTypeHeaders.map(Rule.header) + defaultEventTypePointers.compactMap(JSONPointer.init).map(Rule.jsonPointer))

    /// Rules configured per context: given header names and pointers replace the defaults of their kind
    /// (nil keeps them); span attributes stay. Throws for a pointer that is not RFC 6901.
    public static func configured(headers: [String]?, pointers: [String]?) throws -> CorrelationRules {
        var rules = CorrelationRules.default
        let headerRules = (headers ?? defaultHeaders).map(Rule.header)
        var pointerRules: [Rule] = []
        for p in pointers ?? defaultPointers {
            guard let pointer = JSONPointer(p) else { throw CorrelationRuleError(pointer: p) }
            pointerRules.append(.jsonPointer(pointer))
        }
        rules.correlation = headerRules + pointerRules + defaultSpanAttributes.map(Rule.spanAttribute)
        return rules
    }

    /// What a record says about itself.
    public struct Extraction: Sendable, Hashable {
        /// Correlation ID, if a rule matched.
        public var correlationID: String?
        /// Event type, if a rule matched.
        public var eventType: String?

        /// Creates an extraction (the benchmark's and fuzz target's reference paths build their own).
        public init(correlationID: String?, eventType: String?) {
            self.correlationID = correlationID
            self.eventType = eventType
        }
    }

    /// Correlation ID and event type of a record; the value is scanned as JSON at most once, for all pointers.
    public func extract(_ record: Record) -> Extraction {
        var scanned: [String?]??  // nil: not tried; .some(nil): not JSON
        func texts() -> [String?]? {
            if let s = scanned { return s }
            let s = Self.scanJSON(record.value, plans)
            scanned = .some(s)
            return s
        }
        // Pointer rules own consecutive slots of the scan: correlation's first, then eventType's.
        func first(_ rules: [Rule], slot base: Int) -> String? {
            var slot = base
            for rule in rules {
                switch rule {
                case .header(let name):
                    if let h = record.header(name), let v = Self.accept(h.utf8Value) { return v }
                case .jsonPointer:
                    defer { slot += 1 }
                    if let t = texts(), let v = Self.accept(t[slot]) { return v }
                case .spanAttribute:
                    continue
                }
            }
            return nil
        }
        let eventTypeSlot = correlation.reduce(0) { n, rule in
            if case .jsonPointer = rule { return n + 1 }
            return n
        }
        return Extraction(correlationID: first(correlation, slot: 0), eventType: first(eventType, slot: eventTypeSlot))
    }

    /// The correlation ID of a record, if a rule matches.
    public func correlationID(of record: Record) -> String? { extract(record).correlationID }

    /// The event type of a record, if a rule matches.
    public func eventType(of record: Record) -> String? { extract(record).eventType }

    /// The correlation ID of a span from its attributes; else, when `linked` knows the correlation ID of a
    /// span it links to (a consumer span's link to the message's creation span), that one.
    public func correlationID(of span: Span, linked: ((SpanLink) -> String?)? = nil) -> String? {
        for rule in correlation {
            guard case .spanAttribute(let key) = rule, let value = span.attribute(key) else { continue }
            let text: String?
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            default: text = nil
            }
            if let v = Self.accept(text) { return v }
        }
        if let linked {
            for link in span.links { if let v = Self.accept(linked(link)) { return v } }
        }
        return nil
    }

    static func accept(_ text: String?) -> String? {
        guard let text else { return nil }
        // Fast path, same answer: printable ASCII at both ends means there is nothing to trim
        // (Foundation's trimming is the costliest step of extracting from a small value).
        if let first = text.utf8.first, let last = text.utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return text.utf8.count <= maxValueBytes ? text : nil
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= maxValueBytes else { return nil }
        return trimmed
    }

    /// What each pointer of `plans` designates in a record value (see `JSONScanner`), or nil when the value
    /// is not JSON the rules read: missing, empty, larger than `maxJSONBytes`, not UTF-8, not an object or
    /// array, or anything Foundation's JSONSerialization would reject.
    static func scanJSON(_ value: [UInt8]?, _ plans: [JSONScanner.Plan]) -> [String?]? {
        guard let value, !value.isEmpty, value.count <= maxJSONBytes else { return nil }
        return JSONScanner.resolve(plans, in: value)
    }
}

/// A configured JSON pointer that is not one.
public struct CorrelationRuleError: Error, Sendable, CustomStringConvertible {
    /// The pointer as written.
    public var pointer: String

    /// Creates the error for a pointer.
    public init(pointer: String) { self.pointer = pointer }

    /// Why it was refused.
    public var description: String {
        "'\(pointer)' is not a JSON pointer (RFC 6901: starts with '/', '~' only as ~0 or ~1)"
    }
}
