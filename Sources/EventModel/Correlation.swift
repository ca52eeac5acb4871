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

    /// The value the pointer designates in a document decoded by `JSONSerialization`, or nil.
    public func resolve(in document: Any) -> Any? {
        var current: Any = document
        for token in tokens {
            if let object = current as? [String: Any] {
                guard let next = object[token] else { return nil }
                current = next
            } else if let array = current as? [Any] {
                // RFC 6901: decimal index without leading zeros.
                guard let i = Int(token), i >= 0, i < array.count, token == String(i) else { return nil }
                current = array[i]
            } else {
                return nil
            }
        }
        return current
    }
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
    public var correlation: [Rule]
    /// Rules for the event type, tried in order.
    public var eventType: [Rule]

    /// Creates rules from explicit lists.
    public init(correlation: [Rule], eventType: [Rule]) {
        self.correlation = correlation
        self.eventType = eventType
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
    }

    /// Correlation ID and event type of a record; the value is parsed as JSON at most once.
    public func extract(_ record: Record) -> Extraction {
        var parsed: Any??  // nil: not tried; .some(nil): not JSON
        func document() -> Any? {
            if let p = parsed { return p }
            let d = Self.parseJSON(record.value)
            parsed = .some(d)
            return d
        }
        func first(_ rules: [Rule]) -> String? {
            for rule in rules {
                switch rule {
                case .header(let name):
                    if let h = record.header(name), let v = Self.accept(h.utf8Value) { return v }
                case .jsonPointer(let pointer):
                    if let doc = document(), let v = Self.accept(Self.scalarText(pointer.resolve(in: doc))) { return v }
                case .spanAttribute:
                    continue
                }
            }
            return nil
        }
        return Extraction(correlationID: first(correlation), eventType: first(eventType))
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
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= maxValueBytes else { return nil }
        return trimmed
    }

    static func scalarText(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let n as NSNumber:
            // Integers only: a correlation ID of 1.5 or true is not one.
            if String(cString: n.objCType) == "c" || String(describing: type(of: n)).contains("Bool") { return nil }
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 1e15 else { return nil }
            return String(Int64(d))
        default: return nil
        }
    }

    /// A JSON object or array from bytes that are valid UTF-8 and small enough; nil otherwise.
    static func parseJSON(_ value: [UInt8]?) -> Any? {
        guard let value, !value.isEmpty, value.count <= maxJSONBytes else { return nil }
        guard let first = value.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        guard String(validating: value, as: UTF8.self) != nil else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(value))
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
