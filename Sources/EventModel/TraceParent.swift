/// A W3C trace-context `traceparent` value (`00-<trace id>-<span id>-<flags>`): which trace a message
/// belongs to and which span sent it. The one parser of the header in evtop.
///
/// Parsing follows the W3C Trace Context recommendation: lowercase hex only; a 32-digit trace id and a
/// 16-digit span (parent) id, neither all zeros; two-digit flags. Version `00` is exactly 55 characters.
/// A later version (`01`…`fe`) is read by the same layout, and may carry more fields after a `-`
/// (the recommendation asks receivers to try); version `ff` is invalid.
///
/// ```swift
/// if let context = TraceParent(headers: record.headers) { spans(traceID: context.traceID) }
/// let header = TraceParent(traceID: trace, spanID: span)?.header   // "00-…-…-01"
/// ```
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// The header's name on a record (Kafka header names are case-sensitive; this is the W3C spelling).
    public static let headerName = "traceparent"
    /// The version this type writes.
    public static let currentVersion: UInt8 = 0

    /// The trace, 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// The span that sent the message (the header's `parent-id`), 16 lowercase hex digits, not all zero.
    public let spanID: String
    /// Trace flags; bit 0 is "sampled".
    public let flags: UInt8
    /// The version the value was read with (`0` unless parsed from a later version).
    public let version: UInt8

    /// True when the sender recorded the trace (flag bit 0).
    public var isSampled: Bool { flags & 0x01 != 0 }

    /// A context for `traceID` and `spanID`; nil unless both are lowercase hex of the right length and not all zero.
    public init?(traceID: String, spanID: String, flags: UInt8 = 0x01) {
        guard Self.isID(Substring(traceID), digits: 32), Self.isID(Substring(spanID), digits: 16) else { return nil }
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.version = Self.currentVersion
    }

    /// Parses a header value; nil when it is not a valid `traceparent` (see the type's rules).
    public init?(header: String) {
        let utf8 = Array(header.utf8)
        // version(2) - trace(32) - span(16) - flags(2) = 55 characters.
        guard utf8.count >= 55, utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-"),
              let version = Self.byte(utf8[0], utf8[1]), version != 0xFF,
              let flags = Self.byte(utf8[53], utf8[54]) else { return nil }
        if version == 0 {
            guard utf8.count == 55 else { return nil }
        } else if utf8.count > 55 {
            guard utf8[55] == UInt8(ascii: "-") else { return nil }
        }
        let trace = String(decoding: utf8[3..<35], as: UTF8.self)
        let span = String(decoding: utf8[36..<52], as: UTF8.self)
        guard Self.isID(Substring(trace), digits: 32), Self.isID(Substring(span), digits: 16) else { return nil }
        self.traceID = trace
        self.spanID = span
        self.flags = flags
        self.version = version
    }

    /// The context of a record's headers: the last `traceparent` header, when it is valid UTF-8 and a valid value.
    public init?(headers: [RecordHeader]) {
        guard let text = headers.last(where: { $0.name == Self.headerName })?.utf8Value else { return nil }
        self.init(header: text)
    }

    /// The header value, written as version `00`: `00-<trace id>-<span id>-<flags>`.
    public var header: String { "00-\(traceID)-\(spanID)-\(Self.hex(flags))" }

    /// The header value.
    public var description: String { header }

    // MARK: - Internals

    private static func isID(_ text: Substring, digits: Int) -> Bool {
        text.utf8.count == digits && text.utf8.allSatisfy { nibble($0) != nil } && text.utf8.contains { $0 != UInt8(ascii: "0") }
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil  // uppercase hex is invalid in trace context
        }
    }

    private static func byte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let h = nibble(high), let l = nibble(low) else { return nil }
        return h << 4 | l
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0x0F)]])
    }
}

extension Record {
    /// The record's W3C trace context, from its last `traceparent` header; nil when missing or invalid.
    public var traceParent: TraceParent? { TraceParent(headers: headers) }
}

extension OutgoingRecord {
    /// The record's W3C trace context, from its last `traceparent` header; nil when missing or invalid.
    public var traceParent: TraceParent? { TraceParent(headers: headers) }
}
