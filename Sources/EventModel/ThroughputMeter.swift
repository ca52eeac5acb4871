import Foundation

/// Produce rates per topic and per partition over 1 s, 10 s and 60 s, from watermark deltas.
///
/// Each snapshot costs O(partitions): the meter never looks at a message.
public struct ThroughputMeter: Sendable {
    /// The rates shown for one topic or partition.
    public struct Rates: Sendable, Hashable {
        /// Records per second over the last second.
        public var perSecond1: Double?
        /// Records per second over the last 10 seconds.
        public var perSecond10: Double?
        /// Records per second over the last 60 seconds.
        public var perSecond60: Double?

        /// Creates rates.
        public init(perSecond1: Double? = nil, perSecond10: Double? = nil, perSecond60: Double? = nil) {
            self.perSecond1 = perSecond1
            self.perSecond10 = perSecond10
            self.perSecond60 = perSecond60
        }
    }

    private struct TopicSeries: Sendable {
        var total: RateSeries
        var history: RateHistory
        var partitions: [Int32: RateSeries]
    }

    private var topics: [String: TopicSeries] = [:]
    /// Seconds per sparkline bucket.
    public let bucketSeconds: Double
    /// Sparkline buckets kept per topic.
    public let historyCapacity: Int

    /// Creates a meter; history covers `bucketSeconds × historyCapacity` seconds.
    public init(bucketSeconds: Double = 5, historyCapacity: Int = 120) {
        self.bucketSeconds = bucketSeconds
        self.historyCapacity = historyCapacity
    }

    /// Records the watermarks of a snapshot. Topics that disappeared are forgotten.
    public mutating func record(_ snapshot: BrokerSnapshot) {
        let t = snapshot.time.timeIntervalSinceReferenceDate
        var seen = Set<String>()
        seen.reserveCapacity(snapshot.topics.count)
        for topic in snapshot.topics {
            seen.insert(topic.name)
            var series = topics[topic.name] ?? TopicSeries(
                total: RateSeries(span: 60),
                history: RateHistory(bucketSeconds: bucketSeconds, capacity: historyCapacity),
                partitions: [:])
            let total = topic.totalHigh
            series.total.append(time: t, value: total)
            series.history.append(time: t, value: total)
            for p in topic.partitions {
                series.partitions[p.partition, default: RateSeries(span: 60)].append(time: t, value: p.high)
            }
            if series.partitions.count > topic.partitions.count {
                let live = Set(topic.partitions.map(\.partition))
                series.partitions = series.partitions.filter { live.contains($0.key) }
            }
            topics[topic.name] = series
        }
        if topics.count > seen.count {
            topics = topics.filter { seen.contains($0.key) }
        }
    }

    /// Rates of a whole topic.
    public func rates(topic: String) -> Rates {
        guard let s = topics[topic] else { return Rates() }
        return Rates(perSecond1: s.total.rate(over: 1), perSecond10: s.total.rate(over: 10), perSecond60: s.total.rate(over: 60))
    }

    /// Rates of one partition.
    public func rates(topic: String, partition: Int32) -> Rates {
        guard let s = topics[topic]?.partitions[partition] else { return Rates() }
        return Rates(perSecond1: s.rate(over: 1), perSecond10: s.rate(over: 10), perSecond60: s.rate(over: 60))
    }

    /// Per-bucket rates of a topic, oldest first, for a sparkline.
    public func history(topic: String) -> [Double] {
        topics[topic]?.history.values ?? []
    }
}
