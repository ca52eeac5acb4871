import Foundation
import DequeModule

/// Consumer lag evaluation after Burrow's rules, fed whole broker snapshots: committed offsets
/// (Kafka, the embedded store) and lag the broker reports (RabbitMQ, Redis Streams, JetStream; see
/// <doc:BrokerMapping>).
///
/// ## Samples
/// Per (group, topic-partition) a bounded window (`windowSize`, default 10) of offset samples
/// {time, committed offset, high watermark, lag} is kept. As in Burrow, a sample is taken when a
/// **commit is observed**: the committed offset changed, or the broker-reported commit time changed
/// (the same offset re-committed). A sample's time is the commit time when the broker reports it,
/// else the snapshot time. Commits closer than `minSampleInterval` to the previous sample replace it
/// (Burrow's `min-distance`), so a fast committer does not shrink the window to a few ticks.
///
/// Deliberately, no sample is added on ticks without a commit: the window then spans the last N
/// commits whatever their cadence, so a group that commits rarely (every minute, say) is not judged
/// STALL/WARN/STOP between commits. How the log end moves meanwhile is not lost: it is in the
/// per-partition watermark history (for time lag and produce rate) and in the current lag, which
/// is always computed against the latest high watermark.
///
/// Without broker commit times (Kafka's offset fetch does not return them) a re-commit of the same
/// offset is invisible: a stalled consumer then shows as STOP rather than STALL.
///
/// ## Rules, in this order (first match wins)
/// 1. ERROR: committed > high watermark, or the topic/partition no longer exists.
/// 2. OK: lag is 0 now.
/// 3. STOP: `now − last commit > max(window span, minStopSeconds)`; span = last − first sample time.
///    The floor keeps a window of one or two samples (just started watching) from flapping. This
///    comes before the zero-lag-in-window rule, as in Burrow's code: a consumer that caught up and
///    then died is STOP, not OK.
/// 4. OK: lag was 0 at any sample of the window.
/// 5. REWIND: the committed offset decreased between two samples of the window.
/// 6. STALL: ≥ 2 samples and the committed offset is the same in all of them (lag > 0 by rule 3).
///    Since samples are only taken on commits, this means "re-committing without progress".
/// 7. WARN: ≥ 2 samples, the lag never decreased from one sample to the next, and it grew overall
///    (a constant non-zero lag with progressing offsets is a consumer keeping pace: OK).
/// 8. OK otherwise.
///
/// A partition of a consumed topic with no commit yet is reported with `committed == nil`,
/// lag = high − low (everything retained is unread, as with `auto.offset.reset=earliest`) and
/// status `.ok` (Burrow does not evaluate partitions without offsets). Its time behind is the age of
/// its oldest retained record once the app has read it (``noteRecordTimes(_:)``, planned by
/// ``RecordTimePlan/uncommitted(_:)``); until then it is unknown, and the group's time behind, the
/// maximum of what is known, is flagged a lower bound (``GroupLag/secondsBehindIsLowerBound``).
///
/// ## Lag the broker reports
/// A partition in ``ConsumerGroup/reported`` (RabbitMQ queue, Redis Streams group, JetStream
/// consumer: see <doc:BrokerMapping>) has no committed offset; its lag is the broker's pending
/// count, nil when the broker cannot tell. Its window samples {time, pending, position, acks} are
/// taken when **progress is observed**: the position or the ack counter moved, or the broker's
/// progress time (``ConsumerGroup/commitTimesMillis``) changed. A partition with no progress figure
/// at all is sampled every snapshot, and only a fall of its pending count counts as progress.
/// "Idle" is the time since progress was last observed (first sighting counts, as for offsets).
/// Rules, first match wins:
/// 1. ERROR: the topic/partition is gone, or the broker reports a negative pending count, or a
///    position beyond the log end.
/// 2. UNKNOWN: the pending count is unknown now.
/// 3. OK: pending is 0 now.
/// 3a. STOP: no member (no consumer attached) and no progress observed since first sighting: messages
///    wait and nothing is seen taking them, from the first sample on.
/// 4. Idle for longer than `max(window span, minStopSeconds)`: STOP when no member (no consumer
///    attached); else STALL (the consumers are there and nothing moves). Without a progress figure
///    a stall cannot be told from a consumer keeping pace, so the status is UNKNOWN. As STOP for
///    offsets, this comes before the zero-lag-in-window rule: caught up, then stuck, is not OK.
/// 5. OK: pending was 0 at any sample of the window.
/// 6. REWIND: the position went back between two samples (an ack counter going back is a
///    statistics reset: the window restarts instead).
/// 7. WARN: ≥ 2 samples, pending never decreased from one sample to the next, and grew overall.
/// 8. OK otherwise.
///
/// Time lag: 0 when nothing is pending; else from the broker's oldest pending timestamp, else by
/// interpolating the position in the watermark history (as for offsets); unknown otherwise.
/// Catch-up: pending over the rate at which pending fell across the window. Totals, trend and
/// catch-up of a group with an unknown partition lag say so (``GroupLag/lagUnknownPartitions``,
/// ``LagTrend/unknown``, nil) rather than counting it as 0.
///
/// ## Resets and forgetting
/// A high watermark that goes back (topic deleted and recreated) resets that partition's watermark
/// history and every group's window on it. Topics, partitions and groups missing from a snapshot
/// are forgotten; a group's partition is forgotten when the group no longer has an offset for it.
/// A partition that appears later simply starts with empty history.
///
/// ## Cost
/// `record` is O(topic partitions + Σ groups' committed partitions) dictionary updates in place,
/// never O(messages); all histories are bounded Deques. Snapshots not newer than the last are ignored.
/// Time comes only from snapshots and the `now` passed to `evaluate`: the tracker never reads a clock.
public struct LagTracker: Sendable {
    /// Tuning knobs; the defaults suit a 1 s refresh.
    public struct Configuration: Sendable, Hashable {
        /// Offset samples per partition window (Burrow's `intervals`).
        public var windowSize: Int
        /// Commits closer than this (seconds) to the previous sample replace it.
        public var minSampleInterval: Double
        /// Lower bound of the span used by the STOP rule, in seconds.
        public var minStopSeconds: Double
        /// Watermark samples kept per partition (for time lag).
        public var watermarkHistoryCapacity: Int
        /// Minimum seconds between kept watermark samples (the newest is always current).
        public var watermarkSampleInterval: Double
        /// Seconds of total-lag history the trend is fitted over.
        public var trendSeconds: Double
        /// Absolute trend dead band, records per second.
        public var trendDeadBandPerSecond: Double
        /// Relative trend dead band: fraction of the current total lag per second.
        public var trendRelativeDeadBand: Double
        /// Seconds per sparkline value of `lagHistory`.
        public var historyBucketSeconds: Double
        /// Sparkline values kept per group.
        public var historyCapacity: Int

        /// Creates a configuration.
        public init(windowSize: Int = 10, minSampleInterval: Double = 1, minStopSeconds: Double = 10,
                    watermarkHistoryCapacity: Int = 900, watermarkSampleInterval: Double = 1,
                    trendSeconds: Double = 30, trendDeadBandPerSecond: Double = 1,
                    trendRelativeDeadBand: Double = 0.001,
                    historyBucketSeconds: Double = 5, historyCapacity: Int = 120) {
            self.windowSize = max(1, windowSize)
            self.minSampleInterval = minSampleInterval
            self.minStopSeconds = minStopSeconds
            self.watermarkHistoryCapacity = max(2, watermarkHistoryCapacity)
            self.watermarkSampleInterval = watermarkSampleInterval
            self.trendSeconds = trendSeconds
            self.trendDeadBandPerSecond = trendDeadBandPerSecond
            self.trendRelativeDeadBand = trendRelativeDeadBand
            self.historyBucketSeconds = historyBucketSeconds
            self.historyCapacity = max(1, historyCapacity)
        }
    }

    // MARK: Internal state

    struct WatermarkPoint: Sendable, Hashable {
        var time: Double
        var high: Int64
    }

    struct WatermarkState: Sendable {
        var low: Int64 = 0
        var high: Int64 = 0
        /// Unique per history: set when first seen and whenever the history restarts; group
        /// windows compare against it. 0 = not yet assigned.
        var epoch: UInt64 = 0
        var history: Deque<WatermarkPoint> = []
        var seen: UInt64 = 0
    }

    struct OffsetSample: Sendable, Hashable {
        /// Commit time if the broker reports it, else snapshot time.
        var time: Double
        /// Snapshot time (when `high` was read).
        var observed: Double
        var committed: Int64
        var high: Int64
        var lag: Int64
    }

    struct PartitionTrack: Sendable {
        var window: Deque<OffsetSample> = []
        var epoch: UInt64 = 0
        var started = false
        var committed: Int64 = 0
        var commitTime: Double?
        var lastCommitTime: Double = 0
        /// True once a commit was seen happen (the offset changed while watched, or the broker gave its
        /// time); until then `lastCommitTime` is only when evtop first saw the offset: a lower bound of its age.
        var commitSeen = false
        var seen: UInt64 = 0
    }

    struct ReportedSample: Sendable, Hashable {
        /// Snapshot time.
        var time: Double
        var pending: Int64?
        var position: Int64?
        var acknowledged: Int64?
        /// High watermark at `time`; nil for a partition without positions.
        var high: Int64?
    }

    struct ReportedTrack: Sendable {
        var window: Deque<ReportedSample> = []
        var latest = ReportedLag(pending: nil)
        var epoch: UInt64 = 0
        var started = false
        /// Broker-reported progress time, if any.
        var progressTime: Double?
        /// When progress was last observed (see the type's documentation).
        var lastProgressTime: Double = 0
        /// True once progress was observed after the first sighting (or the broker said when it last made some).
        var progressSeen = false
        var seen: UInt64 = 0
    }

    struct TotalPoint: Sendable, Hashable {
        var time: Double
        var total: Int64
    }

    struct GroupState: Sendable {
        var state: String
        var members: Int
        var tracks: [TopicPartition: PartitionTrack] = [:]
        /// Partitions whose lag the broker reports (never also in `tracks`).
        var reportedTracks: [TopicPartition: ReportedTrack] = [:]
        var topics: [String] = []
        /// Keys of `tracks` and `reportedTracks`, sorted (kept up to date when partitions come and go).
        var order: [TopicPartition] = []
        /// Partitions of `topics` in the latest snapshot, and how many of them have a track.
        var expectedPartitions = 0
        var coveredPartitions = 0
        var trend: Deque<TotalPoint> = []
        var history: Deque<Int64> = []
        var nextBucket: Double?
        var seen: UInt64 = 0
    }

    /// Configuration in use.
    public let configuration: Configuration
    var watermarks: [TopicPartition: WatermarkState] = [:]
    var topicInfos: [String: TopicInfo] = [:]
    var groups: [String: GroupState] = [:]
    /// Record times given by ``noteRecordTimes(_:)``: per partition, offset → timestamp (ms). Entries below
    /// the partition's low watermark are dropped, so the dashboard's (one offset per partition) stay O(partitions).
    var recordTimes: [TopicPartition: [Int64: Int64]] = [:]
    var lastTime: Double?
    private var generation: UInt64 = 0
    private var nextEpoch: UInt64 = 1
    /// Hard cap on trend points, whatever the refresh rate.
    static let maxTrendPoints = 512

    /// Creates an empty tracker.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Recording

    /// Records a snapshot: watermarks, committed offsets and commit times. Ignored unless newer
    /// than the previous one.
    public mutating func record(_ snapshot: BrokerSnapshot) {
        let t = snapshot.time.timeIntervalSinceReferenceDate
        if let last = lastTime, t <= last { return }
        lastTime = t
        generation &+= 1
        let gen = generation
        let config = configuration

        topicInfos.removeAll(keepingCapacity: true)
        var partitionCount = 0
        for topic in snapshot.topics {
            topicInfos[topic.name] = topic
            for p in topic.partitions {
                partitionCount += 1
                let tp = TopicPartition(topic.name, p.partition)
                let usedEpoch = watermarks[tp, default: WatermarkState()]
                    .observe(time: t, low: p.low, high: p.high, generation: gen, newEpoch: nextEpoch, config: config)
                if usedEpoch { nextEpoch &+= 1 }
            }
        }
        if watermarks.count > partitionCount {
            watermarks = watermarks.filter { $0.value.seen == gen }
        }
        if !recordTimes.isEmpty { pruneRecordTimes() }

        let wms = watermarks
        let infos = topicInfos
        var groupCount = 0
        for g in snapshot.groups {
            groupCount += 1
            groups[g.id, default: GroupState(state: g.state, members: g.members)]
                .update(g, time: t, generation: gen, watermarks: wms, topics: infos, config: config)
        }
        if groups.count > groupCount {
            groups = groups.filter { $0.value.seen == gen }
        }
    }

    /// Notes when the first record at or after an offset was written (read by the app, one record per
    /// partition and offset): it gives the time behind of a partition a group never committed on (from its
    /// oldest retained record, at the low watermark), and of a group positioned at that offset, exactly
    /// rather than from watermark history evtop did not observe. Times below a partition's low watermark
    /// (deleted by retention) are forgotten.
    public mutating func noteRecordTimes(_ times: [RecordTime]) {
        for t in times where t.timestampMillis > 0 {
            recordTimes[t.partition, default: [:]][t.offset] = t.timestampMillis
        }
        pruneRecordTimes()
    }

    private mutating func pruneRecordTimes() {
        let wms = watermarks
        for (tp, times) in recordTimes {
            guard let wm = wms[tp] else { recordTimes[tp] = nil; continue }
            if times.keys.contains(where: { $0 < wm.low }) {
                let kept = times.filter { $0.key >= wm.low }
                recordTimes[tp] = kept.isEmpty ? nil : kept
            }
        }
    }

    /// Time behind from a noted record time at `offset`, if one is known.
    private func recordAge(_ tp: TopicPartition, offset: Int64, now: Double) -> Double? {
        guard let millis = recordTimes[tp]?[offset] else { return nil }
        return RecordTime(tp, offset: offset, timestampMillis: millis)
            .age(now: Date(timeIntervalSinceReferenceDate: now))
    }

    // MARK: Evaluation

    /// Ids of the groups currently tracked, sorted.
    public var groupIDs: [String] { groups.keys.sorted() }

    /// Evaluates one group at `now`; nil if the group is not in the latest snapshot.
    public func evaluate(group: String, now: Date) -> GroupLag? {
        guard let gs = groups[group] else { return nil }
        return evaluate(id: group, gs, now: now.timeIntervalSinceReferenceDate)
    }

    /// Evaluates every tracked group at `now`, sorted by id.
    public func evaluateAll(now: Date) -> [GroupLag] {
        let n = now.timeIntervalSinceReferenceDate
        return groups.keys.sorted().map { evaluate(id: $0, groups[$0]!, now: n) }
    }

    /// Total lag of a group, one value per `historyBucketSeconds`, oldest first (for a sparkline).
    public func lagHistory(group: String) -> [Int64] {
        groups[group].map { Array($0.history) } ?? []
    }

    private func evaluate(id: String, _ gs: GroupState, now: Double) -> GroupLag {
        var parts: [PartitionLag] = []
        parts.reserveCapacity(max(gs.order.count, gs.expectedPartitions))
        for tp in gs.order {
            if let track = gs.tracks[tp] {
                parts.append(evaluate(tp, track, watermarks[tp], now: now))
            } else if let track = gs.reportedTracks[tp] {
                parts.append(evaluate(tp, track, watermarks[tp], members: gs.members, now: now))
            }
        }
        if gs.expectedPartitions > gs.coveredPartitions {
            for topic in gs.topics {
                guard let info = topicInfos[topic] else { continue }
                for p in info.partitions where !gs.isTracked(TopicPartition(topic, p.partition)) {
                    // Everything retained is unread: as far behind as the oldest retained record is old.
                    let behind: Double? = p.count == 0 ? 0
                        : p.hasPositions ? recordAge(TopicPartition(topic, p.partition), offset: p.low, now: now) : nil
                    parts.append(PartitionLag(
                        topic: topic, partition: p.partition, committed: nil, high: p.hasPositions ? p.high : nil,
                        lag: p.count, status: .ok, secondsBehind: behind, lastCommitAgeSeconds: nil,
                        consumeRate: nil, produceRate: nil, catchUpSeconds: p.count == 0 ? 0 : nil))
                }
            }
            // Only when some partition has no commit: otherwise `order` is already sorted.
            parts.sort { $0.topic != $1.topic ? $0.topic < $1.topic : $0.partition < $1.partition }
        }

        var status = LagStatus.ok
        var total: Int64 = 0
        var maxLag: Int64 = 0
        var unknownLag = 0
        var behind: Double?
        var lowerBound = false
        var behindUnknown = false
        var catchUp: Double? = 0
        for p in parts {
            status = max(status, p.status)
            if p.secondsBehindIsLowerBound { lowerBound = true }
            if let s = p.secondsBehind { behind = max(behind ?? s, s) }
            guard let lag = p.lag else {
                unknownLag += 1
                behindUnknown = true
                catchUp = nil
                continue
            }
            total = total.addingSaturating(lag)
            maxLag = max(maxLag, lag)
            if lag > 0 {
                // Lagging with no time behind known (no commit and no record time yet, say): the
                // group's figure is at most a lower bound.
                if p.secondsBehind == nil { behindUnknown = true }
                if let c = p.catchUpSeconds, let slowest = catchUp { catchUp = max(slowest, c) } else { catchUp = nil }
            }
        }
        // A partition whose time lag is unknown may be the furthest behind: the maximum of the
        // others is then only a lower bound.
        if behind != nil && behindUnknown { lowerBound = true }
        if unknownLag > 0 {
            // Some lag is unknown: no total to trend, and no time at which all of it is caught up.
            let known = unknownLag < parts.count
            return GroupLag(id: id, state: gs.state, members: gs.members, topics: gs.topics, partitions: parts,
                            status: status, totalLag: known ? total : nil, maxLag: known ? maxLag : nil,
                            secondsBehind: behind, secondsBehindIsLowerBound: lowerBound, trend: .unknown,
                            catchUpSeconds: nil, lagUnknownPartitions: unknownLag)
        }
        // Trend and catch-up come from the same fit (a least-squares slope of total lag over
        // `trendSeconds`), so they never contradict each other: draining catches up at that pace,
        // growing never, steady (not draining) has no catch-up to give.
        let groupTrend = trend(gs)
        if total == 0 {
            catchUp = 0
        } else if case .shrinking(let perSecond) = groupTrend, perSecond > 0 {
            catchUp = Double(total) / perSecond
        } else {
            catchUp = nil
        }
        return GroupLag(id: id, state: gs.state, members: gs.members, topics: gs.topics, partitions: parts,
                        status: status, totalLag: total, maxLag: maxLag, secondsBehind: behind,
                        secondsBehindIsLowerBound: lowerBound, trend: groupTrend, catchUpSeconds: catchUp)
    }

    private func evaluate(_ tp: TopicPartition, _ track: PartitionTrack, _ wm: WatermarkState?,
                          now: Double) -> PartitionLag {
        let age = now - track.lastCommitTime
        guard let wm, track.committed <= wm.high, track.committed >= 0 else {
            // Topic/partition gone, committed beyond the log end, or a negative offset (no real position).
            return PartitionLag(topic: tp.topic, partition: tp.partition, committed: track.committed,
                                high: wm?.high ?? 0, lag: 0, status: .error, secondsBehind: nil,
                                lastCommitAgeSeconds: age, lastCommitAgeIsLowerBound: !track.commitSeen, consumeRate: nil, produceRate: nil,
                                catchUpSeconds: nil, windowSamples: track.window.count)
        }
        let lag = wm.high - track.committed
        let status = Self.status(window: track.window, lag: lag, lastCommitTime: track.lastCommitTime,
                                 now: now, minStop: configuration.minStopSeconds)
        var behind: Double? = 0
        var lowerBound = false
        if lag > 0 {
            let next = max(track.committed, wm.low)
            if let s = recordAge(tp, offset: next, now: now) {
                // The first unread record's time: exact, unless retention deleted the group's next record
                // (the oldest one left is younger than it was).
                behind = s
                lowerBound = track.committed < wm.low
            } else if let (s, lb) = Self.secondsBehind(committed: track.committed, history: wm.history, now: now) {
                behind = s
                lowerBound = lb
            } else {
                behind = nil
            }
        }
        var consume: Double?
        var produce: Double?
        if let first = track.window.first, let end = lastTime {
            let dc = end - first.time
            if dc > 0 { consume = Double(track.committed - first.committed) / dc }
            let dp = end - first.observed
            if dp > 0 { produce = Double(wm.high - first.high) / dp }
        }
        var catchUp: Double?
        if lag == 0 {
            catchUp = 0
        } else if let c = consume, let p = produce, c > p {
            catchUp = Double(lag) / (c - p)
        }
        return PartitionLag(topic: tp.topic, partition: tp.partition, committed: track.committed,
                            high: wm.high, lag: lag, status: status, secondsBehind: behind,
                            secondsBehindIsLowerBound: lowerBound, lastCommitAgeSeconds: age,
                            lastCommitAgeIsLowerBound: !track.commitSeen,
                            consumeRate: consume, produceRate: produce, catchUpSeconds: catchUp,
                            windowSamples: track.window.count)
    }

    private func evaluate(_ tp: TopicPartition, _ track: ReportedTrack, _ wm: WatermarkState?,
                          members: Int, now: Double) -> PartitionLag {
        let r = track.latest
        let positions = topicInfos[tp.topic]?.partitions.first { $0.partition == tp.partition }?.hasPositions ?? false
        let high: Int64? = wm == nil ? 0 : (positions ? wm?.high : nil)
        // What the operator sees as "last commit": only a real progress figure says when it moved.
        let age: Double? = r.hasProgress || track.progressTime != nil ? now - track.lastProgressTime : nil
        let beyondEnd = positions && (r.position.map { p in wm.map { p > $0.high } ?? false } ?? false)
        guard let wm, (r.pending ?? 0) >= 0, (r.position ?? 0) >= 0, !beyondEnd else {
            return PartitionLag(topic: tp.topic, partition: tp.partition, committed: r.position, high: high,
                                lag: (r.pending ?? -1) >= 0 ? r.pending : nil, status: .error, secondsBehind: nil,
                                lastCommitAgeSeconds: age, lastCommitAgeIsLowerBound: !track.progressSeen,
                                consumeRate: nil, produceRate: nil,
                                catchUpSeconds: nil, windowSamples: track.window.count,
                                basis: .reported, reported: r)
        }
        let status = Self.status(reported: track, members: members, now: now, minStop: configuration.minStopSeconds)
        var behind: Double?
        var lowerBound = false
        if r.pending == 0 {
            behind = 0
        } else if r.pending != nil {
            if let oldest = r.oldestPendingMillis {
                behind = max(0, now - (Double(oldest) / 1000 - Date.timeIntervalBetween1970AndReferenceDate))
            } else if positions, let position = r.position,
                      let (s, lb) = Self.secondsBehind(committed: position, history: wm.history, now: now) {
                behind = s
                lowerBound = lb
            }
        }
        var consume: Double?
        var produce: Double?
        var catchUp: Double?
        if let first = track.window.first, let end = lastTime, end - first.time > 0 {
            let dt = end - first.time
            if let now = r.position, let then = first.position {
                consume = Double(now.subtractingSaturating(then)) / dt
            } else if let now = r.acknowledged, let then = first.acknowledged {
                consume = Double(now.subtractingSaturating(then)) / dt
            }
            if let now = high, let then = first.high {
                produce = Double(now.subtractingSaturating(then)) / dt
            } else if let c = consume, let now = r.pending, let then = first.pending {
                // Without positions: what arrived = what was consumed + how much the backlog grew.
                produce = c + Double(now.subtractingSaturating(then)) / dt
            }
            if let now = r.pending, let then = first.pending, then > now, now > 0 {
                catchUp = Double(now) / (Double(then - now) / dt)
            }
        }
        if r.pending == 0 { catchUp = 0 }
        return PartitionLag(topic: tp.topic, partition: tp.partition, committed: r.position, high: high,
                            lag: r.pending, status: status, secondsBehind: behind,
                            secondsBehindIsLowerBound: lowerBound, lastCommitAgeSeconds: age,
                            lastCommitAgeIsLowerBound: !track.progressSeen,
                            consumeRate: consume, produceRate: produce, catchUpSeconds: catchUp,
                            windowSamples: track.window.count, basis: .reported, reported: r)
    }

    /// The reported-lag rules (see the type's documentation), from rule 2 on.
    static func status(reported track: ReportedTrack, members: Int, now: Double, minStop: Double) -> LagStatus {
        guard let pending = track.latest.pending else { return .unknown }
        if pending == 0 { return .ok }
        // Messages wait, nobody is attached and nothing has been seen taking them: STOP from the first
        // sample, not OK until the idle floor passes. A poller (basic.get, no consumer) shows its progress
        // at the next samples, and the rules below then judge it.
        if members == 0 && !track.progressSeen { return .stop }
        let window = track.window
        let span = (window.last?.time ?? 0) - (window.first?.time ?? 0)
        if now - track.lastProgressTime > max(span, minStop) {
            if members == 0 { return .stop }
            return track.latest.hasProgress || track.progressTime != nil ? .stall : .unknown
        }
        var zero = false
        var rewound = false
        var neverDecreased = true
        var previous: ReportedSample?
        for s in window {
            if s.pending == 0 { zero = true }
            if let p = previous {
                if let a = p.position, let b = s.position, b < a { rewound = true }
                if let a = p.pending, let b = s.pending, b < a { neverDecreased = false }
            }
            previous = s
        }
        if zero { return .ok }
        if rewound { return .rewind }
        if window.count >= 2, neverDecreased, let first = window.first?.pending, let last = window.last?.pending,
           last > first {
            return .warn
        }
        return .ok
    }

    /// Burrow's rules in evtop's precedence (see the type's documentation); `lag` is current, ≥ 0.
    static func status(window: Deque<OffsetSample>, lag: Int64, lastCommitTime: Double,
                       now: Double, minStop: Double) -> LagStatus {
        var rewound = false
        var zero = lag == 0
        var neverDecreased = true
        var i = window.startIndex
        var previous: OffsetSample?
        while i < window.endIndex {
            let s = window[i]
            if s.lag == 0 { zero = true }
            if let p = previous {
                if s.committed < p.committed { rewound = true }
                if s.lag < p.lag { neverDecreased = false }
            }
            previous = s
            i += 1
        }
        // Burrow's own order (its calculatePartitionStatus): no current lag is never a problem; a
        // consumer that stopped committing is STOP even if it had caught up earlier in the window
        // (else a group that dies when idle would read OK forever); then zero lag in the window is OK.
        if lag == 0 { return .ok }
        let span = (window.last?.time ?? 0) - (window.first?.time ?? 0)
        if now - lastCommitTime > max(span, minStop) { return .stop }
        if zero { return .ok }
        if rewound { return .rewind }
        guard window.count >= 2, let first = window.first, let last = window.last else { return .ok }
        if first.committed == last.committed { return .stall }  // no decrease, so all equal
        if neverDecreased && last.lag > first.lag { return .warn }
        return .ok
    }

    /// Seconds since the log end was at `committed`, interpolated linearly between the watermark
    /// samples bracketing it: with `hᵢ ≤ committed < hᵢ₊₁` (the last sample at or below it and the
    /// next above), `t = tᵢ + (committed − hᵢ)/(hᵢ₊₁ − hᵢ)·(tᵢ₊₁ − tᵢ)` ≈ when the first unread record
    /// was written. If every sample is above `committed`, the age of the oldest sample is returned
    /// as a lower bound (`true`). Nil without history.
    static func secondsBehind(committed: Int64, history: Deque<WatermarkPoint>, now: Double) -> (Double, Bool)? {
        guard let oldest = history.first else { return nil }
        // First index whose high is > committed (highs are non-decreasing within one epoch).
        var lo = 0
        var hi = history.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if history[history.startIndex + mid].high > committed { hi = mid } else { lo = mid + 1 }
        }
        if lo == 0 { return (max(0, now - oldest.time), true) }
        if lo == history.count { return (0, false) }  // log end never passed `committed`: caught up
        let a = history[history.startIndex + lo - 1]
        let b = history[history.startIndex + lo]
        let f = Double(committed - a.high) / Double(b.high - a.high)
        let t = a.time + f * (b.time - a.time)
        return (max(0, now - t), false)
    }

    /// Least-squares slope of total lag over the trend points, with a dead band; unsettled while the
    /// history is shorter than a sixth of the window (5 s by default) or the fit explains too little of
    /// the samples' spread.
    func trend(_ gs: GroupState) -> LagTrend {
        guard gs.trend.count >= 3, let first = gs.trend.first, let last = gs.trend.last,
              last.time - first.time >= configuration.trendSeconds / 6 else { return .unsettled }
        let n = Double(gs.trend.count)
        let t0 = first.time
        var sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        for p in gs.trend {
            let x = p.time - t0
            let y = Double(p.total)
            sx += x; sy += y; sxx += x * x; sxy += x * y
        }
        let d = n * sxx - sx * sx
        guard d > 0 else { return .steady }
        let slope = (n * sxy - sx * sy) / d
        let band = max(configuration.trendDeadBandPerSecond,
                       configuration.trendRelativeDeadBand * Double(last.total))
        if abs(slope) > band {
            // A slope out of the dead band must also explain the samples: R² of the fit at least
            // `minimumTrendFit`, else the lag jumps about (batch commits, a rebalance) and a rate
            // and a catch-up time drawn from it would contradict the next refresh.
            let mean = sy / n
            var total = 0.0, residual = 0.0
            let intercept = (sy - slope * sx) / n
            for p in gs.trend {
                let y = Double(p.total)
                total += (y - mean) * (y - mean)
                let e = y - (intercept + slope * (p.time - t0))
                residual += e * e
            }
            if total > 0, 1 - residual / total < Self.minimumTrendFit { return .unsettled }
        }
        if slope > band { return .growing(perSecond: slope) }
        if slope < -band { return .shrinking(perSecond: -slope) }
        return .steady
    }

    /// The least R² a trend out of the dead band needs to be named (see ``trend(_:)``).
    static let minimumTrendFit = 0.5

    /// Largest sizes of every bounded buffer, for tests.
    func storageCounts() -> (window: Int, watermarks: Int, trend: Int, history: Int) {
        var w = 0, h = 0, tr = 0, hi = 0
        for wm in watermarks.values { h = max(h, wm.history.count) }
        for g in groups.values {
            tr = max(tr, g.trend.count)
            hi = max(hi, g.history.count)
            for t in g.tracks.values { w = max(w, t.window.count) }
            for t in g.reportedTracks.values { w = max(w, t.window.count) }
        }
        return (w, h, tr, hi)
    }
}

extension LagTracker.WatermarkState {
    /// Adds a watermark sample; returns true when `newEpoch` was taken (first sample, or the high
    /// watermark went back and the history restarted).
    mutating func observe(time: Double, low: Int64, high: Int64, generation: UInt64, newEpoch: UInt64,
                          config: LagTracker.Configuration) -> Bool {
        seen = generation
        var reset = false
        if epoch == 0 || (!history.isEmpty && high < self.high) {
            history.removeAll(keepingCapacity: true)
            epoch = newEpoch
            reset = true
        }
        self.low = low
        self.high = high
        let point = LagTracker.WatermarkPoint(time: time, high: high)
        let c = history.count
        if c >= 2 {
            let prev = history[history.endIndex - 2]
            let last = history[history.endIndex - 1]
            // Keep only the ends of a plateau, and at most one sample per interval (the newest
            // point replaces the last one until the interval has passed): exact enough, bounded.
            if (last.high == high && prev.high == high) || time - prev.time < config.watermarkSampleInterval {
                history[history.endIndex - 1] = point
                return reset
            }
        }
        history.append(point)
        while history.count > config.watermarkHistoryCapacity { history.removeFirst() }
        return reset
    }
}

extension LagTracker.GroupState {
    /// True when the partition has a committed offset or a reported lag in this group.
    func isTracked(_ tp: TopicPartition) -> Bool { tracks[tp] != nil || reportedTracks[tp] != nil }

    mutating func update(_ g: ConsumerGroup, time t: Double, generation gen: UInt64,
                         watermarks: [TopicPartition: LagTracker.WatermarkState],
                         topics infos: [String: TopicInfo], config: LagTracker.Configuration) {
        state = g.state
        members = g.members
        seen = gen
        let before = tracks.count
        let reportedBefore = reportedTracks.count
        let times = g.commitTimesMillis
        var total: Int64? = 0
        var covered = 0
        for (tp, committed) in g.offsets {
            let wm = watermarks[tp]
            var commitTime: Double?
            if !times.isEmpty, let ms = times[tp] {
                commitTime = Double(ms) / 1000 - Date.timeIntervalBetween1970AndReferenceDate
            }
            tracks[tp, default: LagTracker.PartitionTrack()]
                .observe(committed: committed, commitTime: commitTime, time: t, watermark: wm,
                         generation: gen, config: config)
            if let wm {
                covered += 1
                total = total?.addingSaturating(max(0, wm.high.subtractingSaturating(committed)))
            }
        }
        var reportedCount = 0
        for (tp, r) in g.reported where g.offsets[tp] == nil {
            reportedCount += 1
            var progressTime: Double?
            if !times.isEmpty, let ms = times[tp] {
                progressTime = Double(ms) / 1000 - Date.timeIntervalBetween1970AndReferenceDate
            }
            let wm = watermarks[tp]
            reportedTracks[tp, default: LagTracker.ReportedTrack()]
                .observe(r, progressTime: progressTime, time: t, watermark: wm,
                         hasPositions: infos[tp.topic]?.partitions.first { $0.partition == tp.partition }?.hasPositions ?? false,
                         generation: gen, config: config)
            if wm != nil {
                covered += 1
                // An unknown or impossible pending count makes the total unknown.
                if let pending = r.pending, pending >= 0 { total = total?.addingSaturating(pending) } else { total = nil }
            }
        }
        var changed = tracks.count != before || reportedTracks.count != reportedBefore
        if tracks.count > g.offsets.count {
            tracks = tracks.filter { $0.value.seen == gen }
            changed = true
        }
        if reportedTracks.count > reportedCount {
            reportedTracks = reportedTracks.filter { $0.value.seen == gen }
            changed = true
        }
        if changed {
            order = (Array(tracks.keys) + Array(reportedTracks.keys)).sorted()
            topics = Array(Set(order.map(\.topic))).sorted()
        }
        var expected = 0
        for topic in topics { expected += infos[topic]?.partitions.count ?? 0 }
        expectedPartitions = expected
        coveredPartitions = covered
        if expected > covered {
            // Partitions with no commit yet count everything retained as lag.
            for topic in topics {
                guard let info = infos[topic] else { continue }
                for p in info.partitions where !isTracked(TopicPartition(topic, p.partition)) {
                    total = total?.addingSaturating(p.count)
                }
            }
        }

        // An unknown total is left out of the trend and the history rather than counted as 0.
        if let total {
            trend.append(LagTracker.TotalPoint(time: t, total: total))
        }
        while trend.count > 2, trend[trend.startIndex + 1].time <= t - config.trendSeconds { trend.removeFirst() }
        while trend.count > LagTracker.maxTrendPoints { trend.removeFirst() }

        if let next = nextBucket {
            if t >= next {
                let k = Int(((t - next) / config.historyBucketSeconds).rounded(.down)) + 1
                if let total { for _ in 0..<min(k, config.historyCapacity) { history.append(total) } }
                nextBucket = next + Double(k) * config.historyBucketSeconds
            }
        } else if let total {
            history.append(total)
            nextBucket = t + config.historyBucketSeconds
        }
        while history.count > config.historyCapacity { history.removeFirst() }
    }
}

extension LagTracker.PartitionTrack {
    mutating func observe(committed: Int64, commitTime: Double?, time t: Double,
                          watermark wm: LagTracker.WatermarkState?, generation gen: UInt64,
                          config: LagTracker.Configuration) {
        seen = gen
        var restarted = false
        if let wm, wm.epoch != epoch {
            // New partition for this track, or the topic was recreated: history no longer applies,
            // and the current position starts the new window.
            restarted = true
            window.removeAll(keepingCapacity: true)
            epoch = wm.epoch
        }
        let offsetChanged = !started || committed != self.committed
        let recommitted = commitTime != nil && commitTime != self.commitTime
        guard offsetChanged || recommitted || restarted else { return }
        if commitTime != nil || (started && committed != self.committed) { commitSeen = true }
        started = true
        self.committed = committed
        self.commitTime = commitTime
        if let ct = commitTime {
            lastCommitTime = ct
        } else if offsetChanged {
            lastCommitTime = t
        }
        // Only valid positions enter the window; an offset beyond the log end is reported as error.
        guard let wm, committed <= wm.high else { return }
        var sampleTime = commitTime ?? t
        if let last = window.last { sampleTime = max(sampleTime, last.time) }
        let sample = LagTracker.OffsetSample(time: sampleTime, observed: t, committed: committed,
                                             high: wm.high, lag: wm.high.subtractingSaturating(committed))
        // Burrow's min-distance: a commit too close to the sample before the newest replaces the
        // newest (unless that would hide a rewind). Measuring from the one before, not from the newest
        // itself, matters: else commits every 100 ms would keep replacing forever and the window
        // would never grow past two samples, spanning everything since the first.
        if let last = window.last, window.count >= 2,
           sample.time - window[window.endIndex - 2].time < config.minSampleInterval,
           committed >= last.committed {
            window[window.endIndex - 1] = sample
        } else {
            window.append(sample)
        }
        while window.count > config.windowSize { window.removeFirst() }
    }
}

extension LagTracker.ReportedTrack {
    mutating func observe(_ r: ReportedLag, progressTime: Double?, time t: Double,
                          watermark wm: LagTracker.WatermarkState?, hasPositions: Bool,
                          generation gen: UInt64, config: LagTracker.Configuration) {
        seen = gen
        var restarted = !started
        if let wm, wm.epoch != epoch {
            // New partition, or the stream was recreated: history no longer applies.
            restarted = true
            epoch = wm.epoch
        }
        if let then = latest.acknowledged, let now = r.acknowledged, now < then {
            // An ack counter only goes back when the broker reset its statistics.
            restarted = true
        }
        if restarted {
            window.removeAll(keepingCapacity: true)
            lastProgressTime = progressTime ?? t
        } else if let progressTime {
            // The broker says when the group last made progress: that is authoritative.
            lastProgressTime = progressTime
            progressSeen = true
        } else if r.hasProgress {
            if r.position != latest.position || r.acknowledged != latest.acknowledged { lastProgressTime = t; progressSeen = true }
        } else if let then = latest.pending, let now = r.pending, now < then {
            // No progress figure: only a falling backlog shows that someone consumes.
            lastProgressTime = t
            progressSeen = true
        }
        let figureMoved = r.position != latest.position || r.acknowledged != latest.acknowledged
        let brokerSaysProgress = progressTime != nil && progressTime != self.progressTime
        let progressed = restarted || figureMoved || brokerSaysProgress
        started = true
        self.progressTime = progressTime
        latest = r
        // Sample on progress, as for commits; a partition without progress figures on every snapshot.
        let sampleEveryTick = !r.hasProgress && progressTime == nil
        guard progressed || sampleEveryTick else { return }
        let sample = LagTracker.ReportedSample(time: t, pending: r.pending, position: r.position,
                                               acknowledged: r.acknowledged,
                                               high: hasPositions ? wm?.high : nil)
        // Burrow's min-distance, as for commits (never hiding a rewind).
        if let last = window.last, window.count >= 2,
           t - window[window.endIndex - 2].time < config.minSampleInterval,
           (r.position ?? .max) >= (last.position ?? .min) {
            window[window.endIndex - 1] = sample
        } else {
            window.append(sample)
        }
        while window.count > config.windowSize { window.removeFirst() }
    }
}
