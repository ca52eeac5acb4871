/// Unsigned LEB128 varints: the counts and lengths in the store's binary columns (record headers,
/// span detail). Seven bits per byte, least significant first, the high bit set on every byte but the last.
enum Varint {
    /// The bytes end inside a varint, or it does not fit in 64 bits.
    struct Malformed: Error {}

    /// Bytes a `UInt64` takes at most (the tenth carries only the top bit).
    static let maxBytes = 10

    /// Appends `value`'s shortest encoding.
    static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// `value`'s shortest encoding.
    static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    /// Reads the varint starting at `index` and moves `index` past it. Throws ``Malformed`` when the bytes
    /// end first (truncated) or the value needs more than 64 bits (overlong), leaving `index` unspecified.
    /// A padded encoding that fits in ten bytes (`80 00` for 0) is read, as LEB128 allows; none is written.
    static func read<C: Collection>(_ bytes: C, at index: inout C.Index) throws -> UInt64 where C.Element == UInt8 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw Malformed() }
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            // The tenth byte holds bit 63 alone: anything more (a higher bit, or an eleventh byte) overflows.
            if shift == 63 && byte > 1 { throw Malformed() }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }
}
