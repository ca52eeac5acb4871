import DequeModule

/// A counter sampled over time (a sum of high watermarks, a committed offset), from which
/// rates over trailing windows are read. Bounded: samples older than `span` are dropped,
/// so memory and cost per sample are constant.
public struct RateSeries: Sendable, Hashable {
    /// One observation of the counter.
    public struct Sample: Sendable, Hashable {
        /// Seconds on the caller's clock.
        public var time: Double
        /// Counter value.
        public var value: Int64
    }

    /// Longest window that can be asked for, in seconds.
    public let span: Double
    /// Samples, oldest first, within `span` of the newest (plus one older, to bracket the window).
    public private(set) var samples: Deque<Sample> = []

    /// Creates an empty series keeping `span` seconds of samples.
    public init(span: Double = 60) { self.span = span }

    /// The newest sample.
    public var latest: Sample? { samples.last }

    /// Adds a sample. A counter that goes back (topic recreated, offsets reset) restarts the series,
    /// and a sample not newer than the last is ignored.
    public mutating func append(time: Double, value: Int64) {
        if let last = samples.last {
            guard time > last.time else { return }
            if value < last.value { samples.removeAll() }
        }
        samples.append(Sample(time: time, value: value))
        // Keep exactly one sample at or before (now - span) so the longest window stays bracketed.
        while samples.count > 2, samples[1].time <= time - span { samples.removeFirst() }
    }

    /// Increase per second over the trailing `window` seconds, measured from the newest sample
    /// back to the sample nearest the window's start. Nil until two samples exist.
    public func rate(over window: Double) -> Double? {
        guard let last = samples.last, samples.count >= 2 else { return nil }
        // A tick that came a little early still counts as the window start.
        let start = last.time - window + min(window * 0.1, 0.5)
        // Binary search for the newest sample at or before `start` (samples are time-ordered);
        // when none is that old, the window is not covered yet.
        var lo = 0, hi = samples.count - 2
        var base = 0
        while lo <= hi {
            let mid = (lo + hi) / 2
            if samples[mid].time <= start {
                base = mid
                lo = mid + 1
            } else {
                hi = mid - 1
            }
        }
        let first = samples[base]
        // A window the samples do not reach back to was not measured: nil, never the rate of a
        // shorter span under this window's name.
        guard first.time <= start else { return nil }
        let dt = last.time - first.time
        guard dt > 0 else { return nil }
        return Double(last.value - first.value) / dt
    }
}

/// Rates of one counter bucketed over time, for sparklines: a bounded ring of per-bucket rates.
public struct RateHistory: Sendable, Hashable {
    /// Seconds per bucket.
    public let bucketSeconds: Double
    /// Buckets kept.
    public let capacity: Int
    /// Completed buckets' rates (per second), oldest first.
    public private(set) var buckets: Deque<Double> = []
    private var bucketStart: RateSeries.Sample?
    private var lastSample: RateSeries.Sample?

    /// Creates an empty history.
    public init(bucketSeconds: Double = 5, capacity: Int = 120) {
        self.bucketSeconds = bucketSeconds
        self.capacity = capacity
    }

    /// Adds a sample; closes every bucket the time has passed.
    public mutating func append(time: Double, value: Int64) {
        if let last = lastSample, value < last.value || time <= last.time {
            if value < last.value { bucketStart = nil; buckets.removeAll() } else { return }
        }
        lastSample = RateSeries.Sample(time: time, value: value)
        guard let start = bucketStart else {
            bucketStart = RateSeries.Sample(time: time, value: value)
            return
        }
        let elapsed = time - start.time
        guard elapsed >= bucketSeconds else { return }
        let rate = Double(value - start.value) / elapsed
        // A long gap (paused, suspended) fills the buckets it spans with the average rate.
        let count = min(capacity, Int(elapsed / bucketSeconds))
        for _ in 0..<count { buckets.append(rate) }
        while buckets.count > capacity { buckets.removeFirst() }
        bucketStart = RateSeries.Sample(time: time, value: value)
    }

    /// Rates, oldest first.
    public var values: [Double] { Array(buckets) }
}
