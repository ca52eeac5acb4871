import EventModel

/// The `spans.detail` column's binary encoding: a span's attributes, events and links.
///
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
