import GRDB

/// How span and trace ids are kept in `span_rows`: W3C ids (lowercase hex, as the receiver writes them)
/// as 64-bit integers, 8 bytes each instead of 16 or 32 characters; any other text as itself, so an id a
/// caller made up still round-trips exactly.
enum SpanIDs {
    /// A span id (or one half of a trace id) as stored: an integer for 16 lowercase hex digits, else text.
    enum Stored: Equatable {
        case bits(Int64)
        case text(String)

        var databaseValue: DatabaseValue {
            switch self {
            case .bits(let v): return v.databaseValue
            case .text(let s): return s.databaseValue
            }
        }
    }

    /// A trace id as stored: `hi` (first 8 bytes, or the whole text of a non-W3C id) and `lo` (last
    /// 8 bytes, or a hash of the text), which is what `span_rows_by_trace` indexes.
    struct Trace: Equatable {
        var hi: Stored
        var lo: Int64
    }

    /// 16 lowercase hex digits as their 64 bits; nil for anything else (uppercase included, so that text
    /// comes back exactly as it was given).
    static func bits(_ hex: String) -> UInt64? { bits(utf8: hex.utf8) }

    static func bits<S: Sequence<UInt8>>(utf8: S) -> UInt64? {
        var v: UInt64 = 0
        var n = 0
        for c in utf8 {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            n += 1
            if n > 16 { return nil }
            v = v << 4 | UInt64(d)
        }
        return n == 16 ? v : nil
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// 16 lowercase hex digits.
    static func hex(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 { buffer[i] = digits[Int((v >> UInt64(60 - 4 * i)) & 0xf)] }
            return 16
        }
    }

    static func span(_ id: String) -> Stored {
        if let v = bits(id) { return .bits(Int64(bitPattern: v)) }
        return .text(id)
    }

    static func trace(_ id: String) -> Trace {
        if id.utf8.count == 32, let hi = bits(utf8: id.utf8.prefix(16)), let lo = bits(utf8: id.utf8.suffix(16)) {
            return Trace(hi: .bits(Int64(bitPattern: hi)), lo: Int64(bitPattern: lo))
        }
        return Trace(hi: .text(id), lo: Int64(bitPattern: fnv1a(id)))
    }

    /// FNV-1a over the UTF-8 bytes: the index key of a trace id that is not W3C hex.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The id text back from a stored column value; nil when the value is neither form (a damaged row).
    static func spanText(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .int64(let v): return hex(UInt64(bitPattern: v))
        case .string(let s): return s
        default: return nil
        }
    }

    static func traceText(hi: DatabaseValue, lo: Int64) -> String? {
        switch hi.storage {
        case .int64(let v): return hex(UInt64(bitPattern: v)) + hex(UInt64(bitPattern: lo))
        case .string(let s): return s
        default: return nil
        }
    }
}
