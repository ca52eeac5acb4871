/// How long the frames drawn took, in bounded memory: a histogram of 0.1 ms buckets up to 100 ms (slower
/// frames share one bucket, their maximum kept exactly), so a session of days costs the same as one of
/// seconds. The dashboard logs it when it quits; benchmarks read p99 from the log.
public struct FrameTimes: Sendable, Hashable {
    /// Buckets of 0.1 ms; the last holds every frame of 100 ms and more.
    private var buckets = [Int](repeating: 0, count: 1_001)
    /// Frames recorded.
    public private(set) var count = 0
    /// The slowest frame (ms).
    public private(set) var maxMillis = 0.0

    /// An empty record.
    public init() {}

    /// Records one frame of `millis`.
    public mutating func record(millis: Double) {
        guard millis.isFinite, millis >= 0 else { return }
        buckets[min(buckets.count - 1, Int(millis * 10))] += 1
        count += 1
        maxMillis = max(maxMillis, millis)
    }

    /// The time under which `fraction` (0...1) of the frames took, to the bucket's upper edge (ms); nil with
    /// no frames. The overflow bucket answers with the maximum.
    public func percentile(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (i, n) in buckets.enumerated() {
            seen += n
            if seen >= rank { return i == buckets.count - 1 ? maxMillis : min(maxMillis, Double(i + 1) / 10) }
        }
        return maxMillis
    }

    /// One line for a log: "1,234 frames: p50 0.8 ms, p99 3.1 ms, max 9.4 ms", or "no frames".
    public var summary: String {
        guard let p50 = percentile(0.5), let p99 = percentile(0.99) else { return "no frames" }
        func ms(_ v: Double) -> String {
            let tenths = Int((v * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) ms"
        }
        return "\(NumberFormat.grouped(count)) frames: p50 \(ms(p50)), p99 \(ms(p99)), max \(ms(maxMillis))"
    }
}
