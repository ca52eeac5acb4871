import Foundation

/// An attribute value as OpenTelemetry defines it (AnyValue), reduced to what evtop displays and joins on.
public indirect enum AttributeValue: Sendable, Hashable, Codable {
    /// A string.
    case string(String)
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer.
    case int(Int64)
    /// A double.
    case double(Double)
    /// Raw bytes.
    case bytes([UInt8])
    /// An array of values.
    case array([AttributeValue])
    /// A list of key/value pairs.
    case keyValues([SpanAttribute])

    /// The value as display text (arrays and maps as compact JSON-like text).
    public var text: String {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bytes(let b): return b.map { String(format: "%02x", $0) }.joined()
        case .array(let values): return "[" + values.map(\.text).joined(separator: ", ") + "]"
        case .keyValues(let pairs): return "{" + pairs.map { "\($0.key): \($0.value.text)" }.joined(separator: ", ") + "}"
        }
    }

    /// The string payload when this is a string value.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// One span attribute: a key and a value; order is kept as received.
public struct SpanAttribute: Sendable, Hashable, Codable {
    /// Attribute key, e.g. `messaging.message.conversation_id`.
    public var key: String
    /// Attribute value.
    public var value: AttributeValue

    /// Creates an attribute.
    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

/// The kind of a span (OTLP `Span.SpanKind` numbering).
public enum SpanKind: Int, Sendable, Hashable, Codable, CaseIterable {
    /// Unspecified.
    case unspecified = 0
    /// Internal operation.
    case `internal` = 1
    /// Server side of a request.
    case server = 2
    /// Client side of a request.
    case client = 3
    /// Sends a message.
    case producer = 4
    /// Receives or processes a message.
    case consumer = 5
}

/// Span status (OTLP `Status.StatusCode` numbering) with its message.
public struct SpanStatus: Sendable, Hashable, Codable {
    /// Status code.
    public enum Code: Int, Sendable, Hashable, Codable {
        /// Not set.
        case unset = 0
        /// Explicitly OK.
        case ok = 1
        /// Failed.
        case error = 2
    }

    /// The code.
    public var code: Code
    /// A developer-facing message (may be empty).
    public var message: String

    /// Creates a status.
    public init(code: Code = .unset, message: String = "") {
        self.code = code
        self.message = message
    }
}

/// A timed event inside a span (exceptions, retries, ...).
public struct SpanEvent: Sendable, Hashable, Codable {
    /// When it happened, nanoseconds since the Unix epoch.
    public var timeUnixNano: UInt64
    /// Event name, e.g. `exception`.
    public var name: String
    /// Event attributes.
    public var attributes: [SpanAttribute]

    /// Creates a span event.
    public init(timeUnixNano: UInt64, name: String, attributes: [SpanAttribute] = []) {
        self.timeUnixNano = timeUnixNano
        self.name = name
        self.attributes = attributes
    }
}

/// A link from a span to another span (e.g. a consumer span to the message's creation span).
public struct SpanLink: Sendable, Hashable, Codable {
    /// Linked trace id, 32 lowercase hex characters.
    public var traceID: String
    /// Linked span id, 16 lowercase hex characters.
    public var spanID: String
    /// Link attributes.
    public var attributes: [SpanAttribute]

    /// Creates a link.
    public init(traceID: String, spanID: String, attributes: [SpanAttribute] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.attributes = attributes
    }
}

/// One OpenTelemetry span as evtop stores it. Ids are lowercase hex, as OTLP/JSON writes them.
public struct Span: Sendable, Hashable, Codable {
    /// Trace id, 32 lowercase hex characters.
    public var traceID: String
    /// Span id, 16 lowercase hex characters.
    public var spanID: String
    /// Parent span id, or nil for a root span.
    public var parentSpanID: String?
    /// `service.name` of the resource that emitted the span ("unknown" when absent).
    public var service: String
    /// Span name.
    public var name: String
    /// Span kind.
    public var kind: SpanKind
    /// Start, nanoseconds since the Unix epoch.
    public var startUnixNano: UInt64
    /// End, nanoseconds since the Unix epoch.
    public var endUnixNano: UInt64
    /// Status.
    public var status: SpanStatus
    /// Span attributes in received order.
    public var attributes: [SpanAttribute]
    /// Span events.
    public var events: [SpanEvent]
    /// Links to other spans.
    public var links: [SpanLink]

    /// Creates a span.
    public init(traceID: String, spanID: String, parentSpanID: String? = nil, service: String, name: String,
                kind: SpanKind = .internal, startUnixNano: UInt64, endUnixNano: UInt64,
                status: SpanStatus = SpanStatus(), attributes: [SpanAttribute] = [],
                events: [SpanEvent] = [], links: [SpanLink] = []) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.service = service
        self.name = name
        self.kind = kind
        self.startUnixNano = startUnixNano
        self.endUnixNano = endUnixNano
        self.status = status
        self.attributes = attributes
        self.events = events
        self.links = links
    }

    /// The last attribute with the given key.
    public func attribute(_ key: String) -> AttributeValue? {
        attributes.last { $0.key == key }?.value
    }

    /// Duration in nanoseconds (0 when the end precedes the start).
    public var durationNanos: UInt64 { endUnixNano >= startUnixNano ? endUnixNano - startUnixNano : 0 }
}

/// Where spans are kept and looked up: the embedded store implements it; the OTLP receiver writes to it.
public protocol TraceStore: Sendable {
    /// Stores spans (a span already stored under the same trace and span id is replaced); returns how many were stored.
    @discardableResult
    func insertSpans(_ spans: [Span]) async throws -> Int

    /// Spans whose correlation ID (as the correlation rules extracted it at insert) equals `id`, by start time.
    func spans(correlationID id: String, limit: Int) async throws -> [Span]

    /// All spans of one trace, by start time.
    func spans(traceID: String) async throws -> [Span]
}

/// A trace store that can forget old spans (the OTLP receiver runs it periodically).
public protocol SpanRetention: Sendable {
    /// Deletes spans that started before `cutoffUnixNano`, then the oldest beyond `maxSpans`; returns how many went.
    @discardableResult
    func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int
}

/// A trace store the OTLP receiver can write into and keep within its retention limits.
public typealias SpanStore = TraceStore & SpanRetention

extension Span {
    /// Span attributes that carry a correlation (conversation) ID, newest name first.
    public static let correlationAttributeKeys = ["messaging.message.conversation_id", "messaging.conversation_id"]

    /// The span's correlation ID: the first non-empty string attribute of ``correlationAttributeKeys``.
    public var correlationID: String? {
        for key in Span.correlationAttributeKeys {
            if let value = attribute(key)?.stringValue, !value.isEmpty { return value }
        }
        return nil
    }
}
