import EventModel

/// The `headers` column's binary encoding.
///
/// `varint(count)` then, per header in order, `varint(nameLength) name-bytes
/// varint(valueLength) value-bytes`. Varints are unsigned LEB128. Names are
/// stored as their UTF-8 bytes, values as raw bytes (any bytes). An empty
/// header list is stored as SQL NULL.
enum HeaderCodec {
    struct Malformed: Error {}

    static func encode(_ headers: [RecordHeader]) -> [UInt8]? {
        if headers.isEmpty { return nil }
        var out: [UInt8] = []
        var size = 1
        for h in headers { size += h.name.utf8.count + h.value.count + 4 }
        out.reserveCapacity(size)
        appendVarint(UInt64(headers.count), to: &out)
        for h in headers {
            appendVarint(UInt64(h.name.utf8.count), to: &out)
            out.append(contentsOf: h.name.utf8)
            appendVarint(UInt64(h.value.count), to: &out)
            out.append(contentsOf: h.value)
        }
        return out
    }

    static func decode<C: Collection>(_ bytes: C) throws -> [RecordHeader] where C.Element == UInt8, C.Index == Int {
        var i = bytes.startIndex
        let count = try readVarint(bytes, &i)
        // Each header takes at least two bytes: a hostile count cannot make us over-allocate.
        guard count <= UInt64(bytes.count) else { throw Malformed() }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(count))
        for _ in 0..<count {
            let nameLen = try readLength(bytes, &i)
            let name = String(decoding: bytes[i..<(i + nameLen)], as: UTF8.self)
            i += nameLen
            let valueLen = try readLength(bytes, &i)
            let value = Array(bytes[i..<(i + valueLen)])
            i += valueLen
            headers.append(RecordHeader(name: name, value: value))
        }
        guard i == bytes.endIndex else { throw Malformed() }
        return headers
    }

    private static func appendVarint(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func readVarint<C: Collection>(_ b: C, _ i: inout Int) throws -> UInt64 where C.Element == UInt8, C.Index == Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < b.endIndex, shift < 64 else { throw Malformed() }
            let byte = b[i]
            i += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private static func readLength<C: Collection>(_ b: C, _ i: inout Int) throws -> Int where C.Element == UInt8, C.Index == Int {
        let n = try readVarint(b, &i)
        guard n <= UInt64(b.endIndex - i) else { throw Malformed() }
        return Int(n)
    }
}
