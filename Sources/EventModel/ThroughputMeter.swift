import Foundation

/// Produce rates per topic and per partition over 1 s, 10 s and 60 s, from watermark deltas (or, for a
/// queue without positions, from the broker's count of published messages).
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
        /// Indexed by partition number (Kafka numbers partitions 0..<n), nil for gaps.
        var partitions: [RateSeries?]
        /// The number of the last snapshot that listed the topic: older means it vanished.
        var seenIn: Int
        /// A queue's running counts of deliveries and acknowledgements (``QueueFacts``), nil for a log.
        var delivered: RateSeries?
        var acknowledged: RateSeries?
    }

    /// A queue's outflow: how fast the broker hands messages out and how fast consumers finish them.
    public struct QueueRates: Sendable, Hashable {
        /// Deliveries per second (to consumers and to `basic.get`).
        public var delivered: Rates
        /// Acknowledgements per second.
        public var acknowledged: Rates

        /// Creates queue rates.
        public init(delivered: Rates = Rates(), acknowledged: Rates = Rates()) {
            self.delivered = delivered
            self.acknowledged = acknowledged
        }
    }

    private var topics: [String: TopicSeries] = [:]
    private var snapshotsRecorded = 0
    /// Whole-source totals for the throughput chart: running counts of what was written and what groups
    /// consumed, each built from per-topic and per-group deltas so a topic or group appearing adds no spike.
    private var produced = RateHistory(bucketSeconds: 5, capacity: ThroughputMeter.totalsCapacity)
    private var consumed = RateHistory(bucketSeconds: 5, capacity: ThroughputMeter.totalsCapacity)
    private var producedCount: Int64 = 0
    private var consumedCount: Int64 = 0
    private var lastWritten: [String: Int64] = [:]
    private var lastPositions: [GroupPartition: Int64] = [:]

    private struct GroupPartition: Hashable, Sendable {
        var group: String
        var partition: TopicPartition
    }

    /// Buckets of the whole-source totals: an hour at 5 s.
    public static let totalsCapacity = 720
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
    /// Mutates every series in place (no copy of a topic's partition map per tick).
    public mutating func record(_ snapshot: BrokerSnapshot) {
        let t = snapshot.time.timeIntervalSinceReferenceDate
        snapshotsRecorded += 1
        let stamp = snapshotsRecorded
        let (bucket, capacity) = (bucketSeconds, historyCapacity)
        for topic in snapshot.topics {
            Self.update(&topics[topic.name, default: TopicSeries(
                total: RateSeries(span: 60),
                history: RateHistory(bucketSeconds: bucket, capacity: capacity),
                partitions: [], seenIn: stamp)], with: topic, time: t, stamp: stamp)
        }
        if topics.count > snapshot.topics.count {
            topics = topics.filter { $0.value.seenIn == stamp }
        }
        recordTotals(snapshot, time: t)
    }

    /// Adds what each topic gained and what each group moved on since the last snapshot (O(partitions +
    /// committed partitions)); a position that went back (a rewind) adds nothing.
    private mutating func recordTotals(_ snapshot: BrokerSnapshot, time t: Double) {
        var written: [String: Int64] = [:]
        written.reserveCapacity(snapshot.topics.count)
        for topic in snapshot.topics {
            guard let w = topic.totalWritten else { continue }
            written[topic.name] = w
            if let old = lastWritten[topic.name], w > old { producedCount = producedCount.addingSaturating(w - old) }
        }
        lastWritten = written
        var positions: [GroupPartition: Int64] = [:]
        for group in snapshot.groups {
            for (tp, offset) in group.offsets { positions[GroupPartition(group: group.id, partition: tp)] = offset }
            for (tp, r) in group.reported where group.offsets[tp] == nil {
                if let p = r.acknowledged ?? r.position { positions[GroupPartition(group: group.id, partition: tp)] = p }
            }
        }
        for (key, p) in positions {
            if let old = lastPositions[key], p > old { consumedCount = consumedCount.addingSaturating(p - old) }
        }
        lastPositions = positions
        // A source that gives no counter (no management API, no statistics) charts nothing, not a zero line.
        if !written.isEmpty { produced.append(time: t, value: producedCount) }
        if !positions.isEmpty { consumed.append(time: t, value: consumedCount) }
    }

    /// Records per second written to every topic, and consumed by every group, per 5 s bucket over up to
    /// an hour, oldest first; the same length, aligned at their newest bucket.
    public var totals: (produced: [Double], consumed: [Double]) { (produced.values, consumed.values) }

    private static func update(_ series: inout TopicSeries, with topic: TopicInfo, time t: Double, stamp: Int) {
        series.seenIn = stamp
        // A queue known only by its depth has a rate only where the broker counts what was published.
        if let total = topic.totalWritten {
            series.total.append(time: t, value: total)
            series.history.append(time: t, value: total)
        }
        if let queue = topic.queue {
            if let d = queue.delivered {
                if series.delivered == nil { series.delivered = RateSeries(span: 60) }
                series.delivered?.append(time: t, value: d)
            }
            if let a = queue.acknowledged {
                if series.acknowledged == nil { series.acknowledged = RateSeries(span: 60) }
                series.acknowledged?.append(time: t, value: a)
            }
        }
        var highest = -1
        for p in topic.partitions {
            let i = Int(p.partition)
            guard i >= 0, i < 1 << 20 else { continue } // not a partition number a broker would give
            highest = max(highest, i)
            if i >= series.partitions.count {
                series.partitions.append(contentsOf: repeatElement(nil, count: i + 1 - series.partitions.count))
            }
            if series.partitions[i] == nil { series.partitions[i] = RateSeries(span: 60) }
            if let written = p.written { series.partitions[i]?.append(time: t, value: written) }
        }
        if series.partitions.count > topic.partitions.count {
            // Partitions vanished (topic recreated smaller): keep only the listed ones.
            var live = [Bool](repeating: false, count: highest + 1)
            for p in topic.partitions where p.partition >= 0 && Int(p.partition) <= highest { live[Int(p.partition)] = true }
            series.partitions.removeLast(series.partitions.count - (highest + 1))
            for i in series.partitions.indices where !live[i] { series.partitions[i] = nil }
        }
    }

    /// Rates of a whole topic.
    public func rates(topic: String) -> Rates {
        guard let s = topics[topic] else { return Rates() }
        return Rates(perSecond1: s.total.rate(over: 1), perSecond10: s.total.rate(over: 10), perSecond60: s.total.rate(over: 60))
    }

    /// Delivery and acknowledgement rates of a queue (unknown for a log, or where the broker keeps no counts).
    public func queueRates(topic: String) -> QueueRates {
        guard let s = topics[topic] else { return QueueRates() }
        func rates(_ series: RateSeries?) -> Rates {
            guard let series else { return Rates() }
            return Rates(perSecond1: series.rate(over: 1), perSecond10: series.rate(over: 10), perSecond60: series.rate(over: 60))
        }
        return QueueRates(delivered: rates(s.delivered), acknowledged: rates(s.acknowledged))
    }

    /// Rates of one partition.
    public func rates(topic: String, partition: Int32) -> Rates {
        guard let all = topics[topic]?.partitions, partition >= 0, Int(partition) < all.count,
              let s = all[Int(partition)] else { return Rates() }
        return Rates(perSecond1: s.rate(over: 1), perSecond10: s.rate(over: 10), perSecond60: s.rate(over: 60))
    }

    /// Per-bucket rates of a topic, oldest first, for a sparkline.
    public func history(topic: String) -> [Double] {
        topics[topic]?.history.values ?? []
    }
}
