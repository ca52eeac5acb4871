import Foundation
/// Deterministic, locale-independent number formatting for dense tables
/// (never Foundation's formatters: output must not depend on the user's locale).
public enum NumberFormat {
    /// An integer with comma thousands separators: `48213` → "48,213", `-1234` → "-1,234".
    public static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    /// An integer with comma thousands separators.
    public static func grouped(_ value: Int) -> String { grouped(Int64(value)) }

    /// A rate per second, compact: 0 → "0", below 10 one decimal ("0.1", "2.5"), below
    /// 10,000 a grouped integer ("212", "9,999"), below a million thousands ("12.5k",
    /// "125k"), above that millions ("1.2M"). Not-finite values show as "–".
    public static func rate(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if value == 0 { return "0" }
        let sign = value < 0 ? "-" : ""
        let v = abs(value)
        if v < 9.95 { return sign + oneDecimal(v) }
        if v < 9_999.5 { return sign + grouped(Int64(v.rounded())) }
        if v < 99_950 { return sign + oneDecimal(v / 1_000) + "k" }
        if v < 999_500 { return sign + String(Int64((v / 1_000).rounded())) + "k" }
        if v < 9.95e6 { return sign + oneDecimal(v / 1e6) + "M" }
        if v < 9.2e18 { return sign + grouped(Int64((v / 1e6).rounded())) + "M" }
        return sign + "∞"
    }

    /// A duration: "0s", "0.1s", "14s", "3m 12s", "2h 5m", "3d 4h" (units below the
    /// second largest are dropped, never rounded up). Not-finite values show as "–".
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        let sign = seconds < 0 ? "-" : ""
        let s = abs(seconds)
        if s < 0.95 {
            let tenths = Int((s * 10).rounded())
            return tenths == 0 ? "0s" : sign + "0.\(tenths)s"
        }
        guard s < 9.2e18 else { return sign + "∞" }
        let total = s < 1 ? 1 : Int64(s)
        if total < 60 { return sign + "\(total)s" }
        if total < 3_600 { return sign + "\(total / 60)m \(total % 60)s" }
        if total < 86_400 { return sign + "\(total / 3_600)h \((total % 3_600) / 60)m" }
        return sign + "\(grouped(total / 86_400))d \((total % 86_400) / 3_600)h"
    }

    /// A span of time to the millisecond where that matters: `114 ms`, `2.43 s`, then as ``duration(seconds:)``.
    public static func preciseDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 60 { return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.2f s", seconds) }
        return duration(seconds: seconds)
    }

    /// A chart's window or time mark, as short as it goes: `15m`, `1h`, `1m30s`, `45s`.
    public static func axisDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        let s = Int(seconds.rounded())
        if s >= 3600, s % 3600 == 0 { return "\(s / 3600)h" }
        if s >= 60, s % 60 == 0 { return "\(s / 60)m" }
        if s >= 60 { return "\(s / 60)m\(s % 60)s" }
        return "\(s)s"
    }

    /// A byte count in binary units: "512 B", "1.2 KiB", "1.2 MiB", … "8.0 EiB".
    public static func bytes(_ value: Int64) -> String {
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        if magnitude < 1_024 { return sign + "\(magnitude) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = Double(magnitude) / 1_024
        var unit = 0
        while unit < units.count - 1, scaled >= 1_023.95 {
            scaled /= 1_024
            unit += 1
        }
        return sign + oneDecimal(scaled) + " " + units[unit]
    }

    /// A non-negative finite value with exactly one decimal, rounded half away from zero.
    static func oneDecimal(_ v: Double) -> String {
        let tenths = Int64((v * 10).rounded())
        return "\(grouped(tenths / 10)).\(tenths % 10)"
    }
}
