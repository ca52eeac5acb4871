import Foundation
import EventModel

/// A JSON scalar for the hand-written, key-sorted, deterministic encoder.
enum JSONScalar: Sendable, Hashable {
    case string(String)
    case int(Int64)
    /// A money amount in cents, written with two decimals (`42.50`).
    case cents(Int64)
    /// JSON text written verbatim: the caller makes it valid (an array of objects, for the fat events).
    case rawJSON(String)

    var json: String {
        switch self {
        case .string(let s): return JSONText.quote(s)
        case .int(let i): return String(i)
        case .rawJSON(let text): return text
        case .cents(let c):
            let sign = c < 0 ? "-" : ""
            let a = c.magnitude
            let frac = a % 100
            return "\(sign)\(a / 100).\(frac < 10 ? "0" : "")\(frac)"
        }
    }
}

enum JSONText {
    /// Encodes an object with keys sorted (byte order), so output is deterministic.
    static func object(_ fields: [String: JSONScalar]) -> String {
        let body = fields.keys.sorted().compactMap { key -> String? in
            guard let value = fields[key] else { return nil }
            return quote(key) + ":" + value.json
        }
        return "{" + body.joined(separator: ",") + "}"
    }

    /// A JSON string literal with the mandatory escapes.
    static func quote(_ s: String) -> String { JSONString.quote(s) }
}

enum TimeText {
    /// ISO 8601 UTC with milliseconds, e.g. `2026-05-28T12:00:00.000Z`; locale- and Foundation-independent.
    static func iso8601(millis: Int64) -> String {
        let secs = CivilCalendar.floorDiv(millis, 1000)
        let ms = millis - secs * 1000
        let days = CivilCalendar.floorDiv(secs, 86_400)
        let sod = secs - days * 86_400
        let (y, m, d) = CivilCalendar.date(days: days)
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(sod / 3600, 2)):\(p(sod % 3600 / 60, 2)):\(p(sod % 60, 2)).\(p(ms, 3))Z"
    }
}

enum UTF8Check {
    /// The first byte that makes `bytes` invalid UTF-8 (and whether it sits inside a sequence), or nil when valid.
    static func firstInvalid(_ bytes: [UInt8]) -> (index: Int, middle: Bool)? {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch b {
            case 0x00...0x7F: i += 1; continue
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return (i, false)
            }
            for k in 1...need {
                guard i + k < bytes.count else { return (i + k, true) }
                let c = bytes[i + k]
                let (l, h): (UInt8, UInt8) = k == 1 ? (lo, hi) : (0x80, 0xBF)
                guard c >= l, c <= h else { return (i + k, true) }
            }
            i += need + 1
        }
        return nil
    }
}

extension FixedWidthInteger {
    /// Big-endian bytes, as Java's `ByteBuffer.putInt` / `putLong` write them.
    var bigEndianBytes: [UInt8] {
        withUnsafeBytes(of: self.bigEndian) { Array($0) }
    }
}
