import Foundation

/// Where a reader of a topic starts: `:seek` in the messages view, `evtop messages --from`.
///
/// | typed | means |
/// |---|---|
/// | `beginning`, `end` | the oldest record kept, the log's end |
/// | `1200` | that position (offset) |
/// | `-100` | 100 records before the end of each partition (as kcat's `-o -100`) |
/// | `-15m`, `-2h`, `-30s`, `-1d` | the first record written at or after that long ago |
/// | `12:03`, `12:03:30` | today at that local time (yesterday when that is still ahead) |
/// | `2026-12-03`, `2026-12-03T12:03`, `2026-12-03 12:03:30Z`, `…+01:00` | that moment (local time unless a zone is given) |
/// | `@1764763380000` | that moment, in milliseconds since the Unix epoch |
public enum SeekTarget: Sendable, Hashable, CustomStringConvertible {
    /// The oldest record each partition keeps.
    case beginning
    /// The end of each partition (what arrives next).
    case end
    /// This position in each partition (clamped to what it keeps).
    case position(Int64)
    /// This many records before the end of each partition.
    case fromEnd(Int64)
    /// The first record with a timestamp at or after this moment (milliseconds since the epoch).
    case time(Int64)

    /// Reads what the operator typed; `now` and `utcOffsetSeconds` place relative and local times.
    public static func parse(_ text: String, now: Date, utcOffsetSeconds: Int) throws -> SeekTarget {
        let t = text.trimmingCharacters(in: .whitespaces)
        func fail() -> SeekTargetError { SeekTargetError(text: text) }
        switch t.lowercased() {
        case "beginning", "begin", "start", "oldest", "first": return .beginning
        case "end", "newest", "last", "now": return .end
        default: break
        }
        if t.hasPrefix("@") {
            guard let ms = Int64(t.dropFirst()), ms >= 0 else { throw fail() }
            return .time(ms)
        }
        if let n = Int64(t) {
            if t.hasPrefix("-") { return n == Int64.min ? .fromEnd(Int64.max) : .fromEnd(-n) }
            guard !t.hasPrefix("+") else { throw fail() }
            return .position(n)
        }
        if t.hasPrefix("-"), let seconds = duration(String(t.dropFirst())) {
            // Further back than the epoch is the beginning of any log.
            return .time(Int64(max(0, now.timeIntervalSince1970 - seconds) * 1000))
        }
        if let clock = clockSeconds(t) {
            // Today at that local time; a time still ahead means yesterday's.
            let local = now.timeIntervalSince1970 + Double(utcOffsetSeconds)
            let midnight = (local / 86_400).rounded(.down) * 86_400
            var at = midnight + clock - Double(utcOffsetSeconds)
            if at > now.timeIntervalSince1970 { at -= 86_400 }
            return .time(Int64(at * 1000))
        }
        if let seconds = isoDate(t, utcOffsetSeconds: utcOffsetSeconds) { return .time(Int64(seconds * 1000)) }
        throw fail()
    }

    /// `15m` → 900 (also `30s`, `2h`, `1d`); nil unless digits and one unit of s, m, h, d.
    public static func duration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, text.count <= 12, let n = Double(text.dropLast()), n >= 0, text.dropLast().allSatisfy(\.isNumber) else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3_600
        case "d": return n * 86_400
        default: return nil
        }
    }

    /// `12:03` or `12:03:30` as seconds after midnight.
    static func clockSeconds(_ text: String) -> TimeInterval? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
              let h = Int(parts[0]), let m = Int(parts[1]), h < 24, m < 60 else { return nil }
        let s = parts.count == 3 ? Int(parts[2]) ?? 60 : 0
        guard s < 60 else { return nil }
        return TimeInterval(h * 3_600 + m * 60 + s)
    }

    /// `2026-12-03`, `2026-12-03T12:03[:30][.250][Z|±HH:MM]` (a space may stand for the `T`), as seconds
    /// since the epoch; without a zone the time is local (`utcOffsetSeconds`).
    static func isoDate(_ text: String, utcOffsetSeconds: Int) -> TimeInterval? {
        var rest = Substring(text)
        func number(_ digits: Int) -> Int? {
            guard rest.count >= digits, rest.prefix(digits).allSatisfy(\.isNumber), let n = Int(rest.prefix(digits)) else { return nil }
            rest = rest.dropFirst(digits)
            return n
        }
        func expect(_ c: Character) -> Bool {
            guard rest.first == c else { return false }
            rest = rest.dropFirst()
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), day >= 1 else { return nil }
        // Days in the month (a leap February has 29): 2026-02-31 is a mistake, not 3 March.
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= monthDays else { return nil }
        var hour = 0, minute = 0, second = 0.0
        var zone: Int? = nil
        if !rest.isEmpty {
            guard expect("T") || expect(" ") || expect("t"), let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2), s < 60 else { return nil }
                second = Double(s)
                if expect(".") {
                    let fraction = rest.prefix { $0.isNumber }
                    guard !fraction.isEmpty, let f = Double("0." + fraction) else { return nil }
                    second += f
                    rest = rest.dropFirst(fraction.count)
                }
            }
            if expect("Z") || expect("z") {
                zone = 0
            } else if let sign = rest.first, sign == "+" || sign == "-" {
                rest = rest.dropFirst()
                guard let zh = number(2), expect(":") || true, let zm = number(2), zh < 24, zm < 60 else { return nil }
                zone = (sign == "-" ? -1 : 1) * (zh * 3_600 + zm * 60)
            }
            guard rest.isEmpty else { return nil }
        }
        let days = Int(CivilCalendar.days(year: Int64(year), month: Int64(month), day: Int64(day)))
        let local = Double(days * 86_400 + hour * 3_600 + minute * 60) + second
        return local - Double(zone ?? utcOffsetSeconds)
    }

    /// As it would be typed back.
    public var description: String {
        switch self {
        case .beginning: return "beginning"
        case .end: return "end"
        case .position(let p): return String(p)
        case .fromEnd(let n): return "-\(n)"
        case .time(let ms): return "@\(ms)"
        }
    }
}

/// A seek target evtop cannot read.
public struct SeekTargetError: Error, CustomStringConvertible, Equatable {
    /// What was typed.
    public var text: String

    /// The error, with what can be typed instead.
    public var description: String {
        "cannot seek to '\(text)': give beginning, end, an offset (1200), -N (N before the end), a time ago (-15m, -2h, -1d), a clock time (12:03), a date (2026-12-03T12:03, Z or +01:00 for a zone) or @EPOCH_MS"
    }
}

extension LogReader {
    /// The first position in `[low, high)` written at or after `millis` (``searchPosition``); a source with
    /// a time index (Kafka's offsets-for-times) answers with it.
    public func position(topic: String, partition: Int32, atMillis millis: Int64, low: LogPosition, high: LogPosition) async throws -> LogPosition {
        try await searchPosition(topic: topic, partition: partition, atMillis: millis, low: low, high: high)
    }

    /// Where reading `partition` of `topic` starts for `target`, within `[low, high]` of `watermarks`.
    public func seekPosition(topic: String, partition watermarks: PartitionWatermarks, to target: SeekTarget) async throws -> LogPosition {
        let low = watermarks.low, high = watermarks.high
        switch target {
        case .beginning: return low
        case .end: return high
        case .position(let p): return min(max(p, low), high)
        case .fromEnd(let n): return max(low, high.subtractingSaturating(n))
        case .time(let ms): return try await position(topic: topic, partition: watermarks.partition, atMillis: ms, low: low, high: high)
        }
    }

    /// The first position in `[low, high)` whose record was written at or after `millis`, by halving the
    /// range with one-record reads (O(log n) reads); `high` when every record is older. Timestamps a
    /// producer set out of order make this one such position, not necessarily the first: Kafka's own
    /// time index answers the same way for its newest-so-far timestamps.
    public func searchPosition(topic: String, partition: Int32, atMillis millis: Int64, low: LogPosition, high: LogPosition) async throws -> LogPosition {
        var lo = low, hi = high
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let (records, _) = try await read(topic: topic, partition: partition, from: mid, maxRecords: 1)
            guard let r = records.first, r.offset < hi else {
                // Nothing readable from mid on within the range (markers, or records deleted meanwhile).
                hi = mid
                continue
            }
            if r.timestampMillis >= millis { hi = mid } else { lo = r.offset + 1 }
        }
        return lo
    }
}
