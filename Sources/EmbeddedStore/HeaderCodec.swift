import EventModel

/// The `headers` column's binary encoding.
///
/// `varint(count)` then, per header in order, `varint(nameLength) name-bytes
/// varint(valueLength) value-bytes`. Varints are unsigned LEB128 (``Varint``). Names are
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
        Varint.append(UInt64(headers.count), to: &out)
        for h in headers {
            Varint.append(UInt64(h.name.utf8.count), to: &out)
            out.append(contentsOf: h.name.utf8)
            Varint.append(UInt64(h.value.count), to: &out)
            out.append(contentsOf: h.value)
        }
        return out
    }

    static func decode<C: Collection>(_ bytes: C) throws -> [RecordHeader] where C.Element == UInt8, C.Index == Int {
        var i = bytes.startIndex
        let count = try Varint.read(bytes, at: &i)
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

    private static func readLength<C: Collection>(_ b: C, _ i: inout Int) throws -> Int where C.Element == UInt8, C.Index == Int {
        let n = try Varint.read(b, at: &i)
        guard n <= UInt64(b.endIndex - i) else { throw Malformed() }
        return Int(n)
    }
}
