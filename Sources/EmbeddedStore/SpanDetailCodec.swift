import EventModel

/// The `detail` column's binary encodings: a span's attributes, events and links.
///
/// Format 2 (``encodeCompact(_:correlationID:intern:)``, `span_rows.detail`) is described there. Format 1
/// (`spans.detail`, the layout before `span_rows`) is still decoded, for stores written before:
/// `0x01` (format), then attributes, events, links. A list is `varint(count)` and its items; a string
/// `varint(length)` and UTF-8 bytes (``Varint``, unsigned LEB128). An attribute is key string + value; a value is a tag byte then:
/// 1 string, 2 bool (one byte), 3 int (8 bytes little endian), 4 double (IEEE bits, 8 bytes LE),
/// 5 bytes (varint length + bytes), 6 array (list of values), 7 key/values (list of attributes).
/// An event is time (8 bytes LE), name, attributes; a link is trace id, span id, attributes.
/// Decoding checks every length against the bytes left and nesting against ``maxDepth``.
enum SpanDetailCodec {
    struct Malformed: Error {}

    static let format: UInt8 = 1
    static let maxDepth = 32

    static func encode(attributes: [SpanAttribute], events: [SpanEvent], links: [SpanLink]) -> [UInt8] {
        var out: [UInt8] = [format]
        out.reserveCapacity(64 + attributes.count * 48)
        putAttributes(attributes, &out)
        Varint.append(UInt64(events.count), to: &out)
        for e in events {
            putFixed(e.timeUnixNano, &out)
            putString(e.name, &out)
            putAttributes(e.attributes, &out)
        }
        Varint.append(UInt64(links.count), to: &out)
        for l in links {
            putString(l.traceID, &out)
            putString(l.spanID, &out)
            putAttributes(l.attributes, &out)
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws -> (attributes: [SpanAttribute], events: [SpanEvent], links: [SpanLink]) {
        var r = Reader(bytes: bytes)
        guard try r.byte() == format else { throw Malformed() }
        let attributes = try r.attributes(depth: 0)
        var events: [SpanEvent] = []
        for _ in 0..<(try r.count()) {
            let time = try r.fixed()
            let name = try r.string()
            events.append(SpanEvent(timeUnixNano: time, name: name, attributes: try r.attributes(depth: 0)))
        }
        var links: [SpanLink] = []
        for _ in 0..<(try r.count()) {
            let trace = try r.string()
            let span = try r.string()
            links.append(SpanLink(traceID: trace, spanID: span, attributes: try r.attributes(depth: 0)))
        }
        guard r.i == bytes.count else { throw Malformed() }
        return (attributes, events, links)
    }

    // MARK: - Format 2

    static let compactFormat: UInt8 = 2

    /// What a string stands for, for the interning policy (``SpanStrings``).
    enum Role {
        /// An attribute key, event name, service or span name: few distinct values.
        case key
        /// A string attribute value under `key`: interned only while that key has few distinct values.
        case value(key: String)
    }

    /// What a format-2 detail is decoded against: the row's own columns that it refers to.
    struct Context {
        var traceID: String
        var parentSpanID: String?
        var startUnixNano: UInt64
        var correlationID: String?
        /// The row referenced a correlation id whose summary row is gone (``SpanCorrelationRefs``): the
        /// attribute that stood for it is left out rather than the span made unreadable.
        var correlationLost = false
    }

    /// Format 2: `0x02`, then attributes, events, links, with references instead of repeated text.
    ///
    /// A string reference is `varint(id << 1)` for a string of `span_strings`, or `varint(length << 1 | 1)`
    /// and UTF-8 bytes. Attributes: `varint(count)`, each a key reference and a value: tag 1 string
    /// reference, 2 bool (a byte), 3 int (zigzag varint: small counters and offsets take 1-3 bytes, not 8),
    /// 4 double (8 bytes LE), 5 bytes, 6 array, 7 key/values, 8 "the row's correlation_id" (the
    /// conversation id is already a column: not stored twice). Events: count, then each its time as a
    /// zigzag varint from the span's start, a name reference and attributes. Links: count, then each a
    /// form byte (0: another trace, 16 + 8 id bytes; 1: the span's own trace, 8 span id bytes; 2: the
    /// span's own parent, nothing more; 3: ids that are not W3C hex, two string references) and attributes.
    static func encodeCompact(_ span: Span, correlationID: String?,
                              intern: (String, Role) throws -> Int64?) rethrows -> [UInt8] {
        var out: [UInt8] = [compactFormat]
        out.reserveCapacity(48 + span.attributes.count * 6)
        var correlationTaken = correlationID == nil
        try putCompactAttributes(span.attributes, &out, intern: intern, correlation: correlationID, taken: &correlationTaken)
        Varint.append(UInt64(span.events.count), to: &out)
        for e in span.events {
            putZigzag(Int64(bitPattern: e.timeUnixNano &- span.startUnixNano), &out)
            try putRef(e.name, .key, &out, intern)
            var none = true
            try putCompactAttributes(e.attributes, &out, intern: intern, correlation: nil, taken: &none)
        }
        Varint.append(UInt64(span.links.count), to: &out)
        for l in span.links {
            let spanBits = SpanIDs.bits(l.spanID)
            if l.traceID == span.traceID, let parent = span.parentSpanID, l.spanID == parent {
                out.append(2)
            } else if l.traceID == span.traceID, let bits = spanBits {
                out.append(1)
                putFixed(bits, &out)
            } else if case .bits(let hi) = SpanIDs.trace(l.traceID).hi, let bits = spanBits {
                out.append(0)
                let lo = SpanIDs.trace(l.traceID).lo
                putFixedBE(UInt64(bitPattern: hi), &out)
                putFixedBE(UInt64(bitPattern: lo), &out)
                putFixed(bits, &out)
            } else {
                out.append(3)
                putInline(l.traceID, &out)
                putInline(l.spanID, &out)
            }
            var none = true
            try putCompactAttributes(l.attributes, &out, intern: intern, correlation: nil, taken: &none)
        }
        return out
    }

    static func decodeCompact(_ bytes: [UInt8], _ context: Context,
                              text: (Int64) throws -> String) throws -> (attributes: [SpanAttribute], events: [SpanEvent], links: [SpanLink]) {
        var r = Reader(bytes: bytes)
        guard try r.byte() == compactFormat else { throw Malformed() }
        let attributes = try r.compactAttributes(depth: 0, context.correlationID, lost: context.correlationLost, text)
        var events: [SpanEvent] = []
        for _ in 0..<(try r.count()) {
            let time = context.startUnixNano &+ UInt64(bitPattern: try r.zigzag())
            let name = try r.ref(text)
            events.append(SpanEvent(timeUnixNano: time, name: name, attributes: try r.compactAttributes(depth: 0, nil, text)))
        }
        var links: [SpanLink] = []
        for _ in 0..<(try r.count()) {
            let trace: String, spanID: String
            switch try r.byte() {
            case 0:
                let hi = try r.fixedBE(), lo = try r.fixedBE()
                trace = SpanIDs.hex(hi) + SpanIDs.hex(lo)
                spanID = SpanIDs.hex(try r.fixed())
            case 1:
                trace = context.traceID
                spanID = SpanIDs.hex(try r.fixed())
            case 2:
                guard let parent = context.parentSpanID else { throw Malformed() }
                trace = context.traceID
                spanID = parent
            case 3:
                trace = try r.ref(text)
                spanID = try r.ref(text)
            default:
                throw Malformed()
            }
            links.append(SpanLink(traceID: trace, spanID: spanID, attributes: try r.compactAttributes(depth: 0, nil, text)))
        }
        guard r.i == bytes.count else { throw Malformed() }
        return (attributes, events, links)
    }

    private static func putZigzag(_ v: Int64, _ out: inout [UInt8]) {
        Varint.append(UInt64(bitPattern: (v << 1) ^ (v >> 63)), to: &out)
    }

    private static func putFixedBE(_ v: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    private static func putInline(_ s: String, _ out: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            Varint.append(UInt64(utf8.count) << 1 | 1, to: &out)
            out.append(contentsOf: utf8)
        }
    }

    private static func putRef(_ s: String, _ role: Role, _ out: inout [UInt8], _ intern: (String, Role) throws -> Int64?) rethrows {
        if let id = try intern(s, role), id >= 0 {
            Varint.append(UInt64(id) << 1, to: &out)
        } else {
            putInline(s, &out)
        }
    }

    /// `taken` turns true once the correlation id has been replaced by tag 8: only the attribute the
    /// id was read from (``Span/correlationID``'s first match) may stand for it, so decoding gives every
    /// other attribute its own text back.
    private static func putCompactAttributes(_ list: [SpanAttribute], _ out: inout [UInt8],
                                             intern: (String, Role) throws -> Int64?, correlation: String?,
                                             taken: inout Bool) rethrows {
        Varint.append(UInt64(list.count), to: &out)
        for a in list {
            try putRef(a.key, .key, &out, intern)
            if !taken, let correlation, case .string(let s) = a.value, s == correlation,
               Span.correlationAttributeKeys.contains(a.key) {
                taken = true
                out.append(8)
                continue
            }
            try putCompactValue(a.value, key: a.key, &out, intern)
        }
    }

    private static func putCompactValue(_ v: AttributeValue, key: String, _ out: inout [UInt8],
                                        _ intern: (String, Role) throws -> Int64?) rethrows {
        switch v {
        case .string(let s): out.append(1); try putRef(s, .value(key: key), &out, intern)
        case .bool(let b): out.append(2); out.append(b ? 1 : 0)
        case .int(let i): out.append(3); putZigzag(i, &out)
        case .double(let d): out.append(4); putFixed(d.bitPattern, &out)
        case .bytes(let b): out.append(5); Varint.append(UInt64(b.count), to: &out); out.append(contentsOf: b)
        case .array(let values):
            out.append(6)
            Varint.append(UInt64(values.count), to: &out)
            for value in values { try putCompactValue(value, key: key, &out, intern) }
        case .keyValues(let pairs):
            out.append(7)
            var none = true
            try putCompactAttributes(pairs, &out, intern: intern, correlation: nil, taken: &none)
        }
    }

    // MARK: - Writing

    private static func putFixed(_ v: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    private static func putString(_ s: String, _ out: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            Varint.append(UInt64(utf8.count), to: &out)
            out.append(contentsOf: utf8)
        }
    }

    private static func putAttributes(_ list: [SpanAttribute], _ out: inout [UInt8]) {
        Varint.append(UInt64(list.count), to: &out)
        for a in list {
            putString(a.key, &out)
            putValue(a.value, &out)
        }
    }

    private static func putValue(_ v: AttributeValue, _ out: inout [UInt8]) {
        switch v {
        case .string(let s): out.append(1); putString(s, &out)
        case .bool(let b): out.append(2); out.append(b ? 1 : 0)
        case .int(let i): out.append(3); putFixed(UInt64(bitPattern: i), &out)
        case .double(let d): out.append(4); putFixed(d.bitPattern, &out)
        case .bytes(let b): out.append(5); Varint.append(UInt64(b.count), to: &out); out.append(contentsOf: b)
        case .array(let values):
            out.append(6)
            Varint.append(UInt64(values.count), to: &out)
            for value in values { putValue(value, &out) }
        case .keyValues(let pairs): out.append(7); putAttributes(pairs, &out)
        }
    }

    // MARK: - Reading

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        mutating func byte() throws -> UInt8 {
            guard i < bytes.count else { throw Malformed() }
            defer { i += 1 }
            return bytes[i]
        }

        mutating func varint() throws -> UInt64 {
            try Varint.read(bytes, at: &i)
        }

        /// An item count; every item takes at least one byte, so a hostile count cannot over-allocate.
        mutating func count() throws -> Int {
            let n = try varint()
            guard n <= UInt64(bytes.count - i) else { throw Malformed() }
            return Int(n)
        }

        mutating func fixed() throws -> UInt64 {
            guard bytes.count - i >= 8 else { throw Malformed() }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[i + k]) << UInt64(8 * k) }
            i += 8
            return v
        }

        mutating func raw() throws -> ArraySlice<UInt8> {
            let n = try count()
            defer { i += n }
            return bytes[i..<(i + n)]
        }

        mutating func string() throws -> String {
            String(decoding: try raw(), as: UTF8.self)
        }

        mutating func zigzag() throws -> Int64 {
            let u = try varint()
            return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
        }

        mutating func fixedBE() throws -> UInt64 {
            guard bytes.count - i >= 8 else { throw Malformed() }
            var v: UInt64 = 0
            for k in 0..<8 { v = v << 8 | UInt64(bytes[i + k]) }
            i += 8
            return v
        }

        /// A string reference (format 2): an id of `span_strings`, or inline text.
        mutating func ref(_ text: (Int64) throws -> String) throws -> String {
            let v = try varint()
            if v & 1 == 0 {
                guard v >> 1 <= UInt64(Int64.max) else { throw Malformed() }
                return try text(Int64(v >> 1))
            }
            let n = v >> 1
            guard n <= UInt64(bytes.count - i) else { throw Malformed() }
            defer { i += Int(n) }
            return String(decoding: bytes[i..<(i + Int(n))], as: UTF8.self)
        }

        mutating func compactAttributes(depth: Int, _ correlation: String?, lost: Bool = false,
                                        _ text: (Int64) throws -> String) throws -> [SpanAttribute] {
            guard depth <= SpanDetailCodec.maxDepth else { throw Malformed() }
            var list: [SpanAttribute] = []
            let n = try count()
            list.reserveCapacity(n)
            for _ in 0..<n {
                let key = try ref(text)
                if lost, depth == 0, i < bytes.count, bytes[i] == 8 {
                    i += 1  // the row's correlation id, which is lost
                    continue
                }
                list.append(SpanAttribute(key, try compactValue(depth: depth, correlation, text)))
            }
            return list
        }

        mutating func compactValue(depth: Int, _ correlation: String?, _ text: (Int64) throws -> String) throws -> AttributeValue {
            switch try byte() {
            case 1: return .string(try ref(text))
            case 2: return .bool(try byte() != 0)
            case 3: return .int(try zigzag())
            case 4: return .double(Double(bitPattern: try fixed()))
            case 5: return .bytes(Array(try raw()))
            case 6:
                guard depth < SpanDetailCodec.maxDepth else { throw Malformed() }
                var values: [AttributeValue] = []
                for _ in 0..<(try count()) { values.append(try compactValue(depth: depth + 1, nil, text)) }
                return .array(values)
            case 7:
                return .keyValues(try compactAttributes(depth: depth + 1, nil, text))
            case 8:
                guard depth == 0, let correlation else { throw Malformed() }
                return .string(correlation)
            default:
                throw Malformed()
            }
        }

        mutating func attributes(depth: Int) throws -> [SpanAttribute] {
            guard depth <= SpanDetailCodec.maxDepth else { throw Malformed() }
            var list: [SpanAttribute] = []
            let n = try count()
            list.reserveCapacity(n)
            for _ in 0..<n {
                let key = try string()
                list.append(SpanAttribute(key, try value(depth: depth)))
            }
            return list
        }

        mutating func value(depth: Int) throws -> AttributeValue {
            switch try byte() {
            case 1: return .string(try string())
            case 2: return .bool(try byte() != 0)
            case 3: return .int(Int64(bitPattern: try fixed()))
            case 4: return .double(Double(bitPattern: try fixed()))
            case 5: return .bytes(Array(try raw()))
            case 6:
                guard depth < SpanDetailCodec.maxDepth else { throw Malformed() }
                var values: [AttributeValue] = []
                for _ in 0..<(try count()) { values.append(try value(depth: depth + 1)) }
                return .array(values)
            case 7:
                return .keyValues(try attributes(depth: depth + 1))
            default:
                throw Malformed()
            }
        }
    }
}
