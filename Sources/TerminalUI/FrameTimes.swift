import Foundation

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

/// Where the frames' time went: the whole pass, and its parts (the reducer and effects, drawing the screen
/// into a buffer, diffing and writing it to the terminal), plus the time the UI thread was on a CPU. A slow
/// frame with little CPU time was preempted or waited on the terminal, not busy: the log line tells which.
public struct FrameProfile: Sendable, Hashable {
    /// The whole pass: from the first input (or the pass's start) to the frame written.
    public var total = FrameTimes()
    /// Actions reduced and effects started.
    public var update = FrameTimes()
    /// The screen drawn into a buffer.
    public var render = FrameTimes()
    /// The buffer diffed against the last frame and written to the terminal.
    public var write = FrameTimes()
    /// The UI thread's own CPU time over the pass.
    public var cpu = FrameTimes()

    /// An empty profile.
    public init() {}

    /// Frames recorded.
    public var count: Int { total.count }

    /// Records one pass's parts, in milliseconds.
    public mutating func record(total: Double, update: Double, render: Double, write: Double, cpu: Double) {
        self.total.record(millis: total)
        self.update.record(millis: update)
        self.render.record(millis: render)
        self.write.record(millis: write)
        self.cpu.record(millis: cpu)
    }

    /// The total's summary, then each part's p50 and p99: "53 frames: p50 …, p99 …, max … (update p50 0.2 /
    /// p99 1.0 ms, render …, write …, on CPU …)".
    public var summary: String {
        guard total.count > 0 else { return total.summary }
        func part(_ name: String, _ t: FrameTimes) -> String {
            func ms(_ v: Double?) -> String {
                let tenths = Int(((v ?? 0) * 10).rounded())
                return "\(tenths / 10).\(tenths % 10)"
            }
            return "\(name) p50 \(ms(t.percentile(0.5))) / p99 \(ms(t.percentile(0.99))) ms"
        }
        return total.summary + " (" + [part("update", update), part("render", render), part("write", write),
                                       part("on CPU", cpu)].joined(separator: ", ") + ")"
    }

    /// CPU time the calling thread has used, in milliseconds (0 where the clock is not available).
    public static func threadCPUMillis() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) * 1_000 + Double(ts.tv_nsec) / 1e6
    }
}
