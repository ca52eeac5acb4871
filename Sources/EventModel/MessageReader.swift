import Foundation

/// Which way a read of a topic's messages goes from where it stands.
public enum MessageDirection: String, Sendable, Hashable {
    /// Towards the beginning: the records just before the positions, newest first.
    case older
    /// Towards the end: the records from the positions on, oldest first.
    case newer
}

/// One read of a topic's messages: from per-partition positions, one way, up to a count of matches.
public struct MessageRequest: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// Per partition, where the read stands: for `.older`, the position the records read end before;
    /// for `.newer`, the first position read. Partitions left out are not read.
    public var positions: [Int32: LogPosition]
    /// Which way it reads.
    public var direction: MessageDirection
    /// Records wanted (matches, with a filter).
    public var limit: Int
    /// Only records passing it (nil: all).
    public var filter: MessageFilter?
    /// Records read at most before the read stops and says so (a filter that matches little reads far).
    public var scanBudget: Int
    /// A number the caller gives to tell its answers apart (the view drops answers to older requests).
    public var serial: Int
    /// A tail (`.newer` only): the newest `limit` records from the positions on, not the oldest. What lies
    /// between is passed over and counted (``MessagePage/skipped``): records arriving faster than they are
    /// shown cost the read nothing.
    public var tail: Bool

    /// Creates a request.
    public init(topic: String, positions: [Int32: LogPosition], direction: MessageDirection, limit: Int,
                filter: MessageFilter? = nil, scanBudget: Int = 200_000, serial: Int = 0, tail: Bool = false) {
        self.tail = tail
        self.topic = topic
        self.positions = positions
        self.direction = direction
        self.limit = limit
        self.filter = filter
        self.scanBudget = scanBudget
        self.serial = serial
    }
}

/// What a ``MessageRequest`` read.
public struct MessagePage: Sendable, Hashable {
    /// The request answered.
    public var request: MessageRequest
    /// The records: newest first for `.older`, oldest first for `.newer` (by timestamp, then partition and
    /// position), at most `limit`.
    public var records: [Record]
    /// Per partition, where the next read the same way starts (every record between it and the request's
    /// position was either returned or did not pass the filter).
    public var positions: [Int32: LogPosition]
    /// Records read, matching or not.
    public var scanned: Int
    /// True when every partition reached the end of the log that way (its low watermark, or its high
    /// watermark as the read found it): nothing more to read now.
    public var exhausted: Bool
    /// True when the read stopped at its scan budget (or was cancelled) before finding `limit` matches.
    public var stoppedEarly: Bool
    /// The topic's partitions and watermarks as the read found them.
    public var watermarks: [PartitionWatermarks]
    /// A tail's records passed over: positions between the request's and the page's not returned (with a
    /// filter, matches and not). 0 for other reads.
    public var skipped: Int64
    /// True when ``skipped`` counts positions jumped over unread on a source whose positions need not hold
    /// records (``LogReader/positionsHoldRecords``): at most that many records were passed over.
    public var skippedIsUpperBound: Bool

    /// Creates a page.
    public init(request: MessageRequest, records: [Record], positions: [Int32: LogPosition], scanned: Int, exhausted: Bool, stoppedEarly: Bool,
                watermarks: [PartitionWatermarks] = [], skipped: Int64 = 0, skippedIsUpperBound: Bool = false) {
        self.watermarks = watermarks
        self.skipped = skipped
        self.skippedIsUpperBound = skippedIsUpperBound
        self.request = request
        self.records = records
        self.positions = positions
        self.scanned = scanned
        self.exhausted = exhausted
        self.stoppedEarly = stoppedEarly
    }
}

/// Reads a topic's messages a page at a time, either way, with a filter: what the messages view and
/// `evtop messages` read through. Reads with `LogReader.read` only (assign, never a group, never a commit).
public struct MessageReader: Sendable {
    /// The log.
    public let log: any LogReader
    /// The rules that find event types and correlation IDs (for `type=` and `cid=` filters).
    public let rules: CorrelationRules
    /// Records asked for per read call.
    public var batch = 500

    /// A reader of `log`.
    public init(log: any LogReader, rules: CorrelationRules) {
        self.log = log
        self.rules = rules
    }

    /// Per partition of `topic` (all, or the given ones), where a read starting at `target` stands, with
    /// the partitions' current watermarks.
    public func positions(topic: String, partitions only: [Int32]? = nil, at target: SeekTarget) async throws
        -> (positions: [Int32: LogPosition], watermarks: [Int32: PartitionWatermarks]) {
        let info = try await log.watermarks(topic: topic)
        var positions: [Int32: LogPosition] = [:]
        var marks: [Int32: PartitionWatermarks] = [:]
        for p in info.partitions where only?.contains(p.partition) ?? true {
            // A seek by time costs a few dozen reads a partition: a read stopped goes no further.
            try Task.checkCancellation()
            marks[p.partition] = p
            positions[p.partition] = try await log.seekPosition(topic: topic, partition: p, to: target)
        }
        if let only, let missing = only.first(where: { marks[$0] == nil }) {
            throw BrokerError.unknownTopic("\(topic) partition \(missing)")
        }
        return (positions, marks)
    }

    /// Reads one page for `request`.
    public func read(_ request: MessageRequest) async throws -> MessagePage {
        let info = try await log.watermarks(topic: request.topic)
        let marks = Dictionary(info.partitions.map { ($0.partition, $0) }, uniquingKeysWith: { a, _ in a })
        var found: [Int32: [Record]] = [:]       // matches per partition, in position order
        var reached: [Int32: LogPosition] = [:]  // how far each partition was read (the low end for .older)
        var done: [Int32: Bool] = [:]            // the partition reached the log's end that way (or cannot go on now)
        var scanned = 0
        var stopped = false
        var tailSkipped: Int64 = 0   // records read and passed over: counted exactly
        var jumped: Int64 = 0        // positions a tail jumped over unread
        let limit = max(0, request.limit)
        let filter = request.filter
        let rules = self.rules
        func passes(_ r: Record) -> Bool {
            guard let filter, !filter.terms.isEmpty else { return true }
            return filter.matches(r, extraction: filter.needsExtraction ? rules.extract(r) : nil)
        }
        // Each partition gets its share of the budget, so a filter that matches little in the first partitions
        // does not leave the others unread (their earlier matches would then come after later ones).
        let readable = request.positions.keys.filter { marks[$0] != nil }
        let share = max(1, request.scanBudget / max(1, readable.count))

        for (partition, start) in request.positions.sorted(by: { $0.key < $1.key }) {
            guard let w = marks[partition] else { continue }
            var matches: [Record] = []
            var read = 0     // records read in this partition
            var covered = 0  // positions stepped over (a compacted partition holds few records in many positions)
            func spent() -> Bool { read >= share || covered / 20 >= share || Task.isCancelled }
            switch request.direction {
            case .newer:
                var position = max(start, w.low)
                if request.tail, filter?.terms.isEmpty ?? true, w.high - position > LogPosition(limit) {
                    // A tail wants the newest: only the last `limit` positions can hold them (a filter reads on
                    // from where it stands, within its budget, so that no match is passed over).
                    jumped += w.high - LogPosition(limit) - position
                    position = w.high - LogPosition(limit)
                }
                var stuck = false
                // A tail reads on to the end, keeping the newest `limit` matches; a page stops at `limit`.
                var dropped = 0
                func keepNewest() {
                    guard matches.count > limit else { return }
                    dropped += matches.count - limit
                    matches.removeFirst(matches.count - limit)
                }
                while request.tail || matches.count < limit, position < w.high {
                    guard !spent() else { stopped = true; break }
                    let want = min(batch, share - read)
                    let (records, next) = try await log.read(topic: request.topic, partition: partition, from: position, maxRecords: want)
                    // Nothing readable from here now (the log is behind its ListOffsets answer, or the source reads
                    // no further): this partition ends this page, and says so.
                    guard next > position else { stuck = true; break }
                    covered += Int(min(next, w.high) - position)
                    for r in records where r.offset < w.high {
                        read += 1
                        if passes(r) { matches.append(r) }
                        if !request.tail, matches.count == limit { position = r.offset + 1; break }
                    }
                    if request.tail, matches.count > limit * 2 { keepNewest() }
                    if request.tail || matches.count < limit { position = min(next, w.high) }
                }
                if request.tail { keepNewest() }
                tailSkipped += Int64(dropped)
                reached[partition] = position
                done[partition] = position >= w.high || stuck
            case .older:
                // Windows walking down from the position; each read forward within its window.
                var end = min(start, w.high)
                while matches.count < limit, end > w.low {
                    guard !spent() else { stopped = true; break }
                    let window = Int64(max(1, min(batch, share - read)))
                    let from = max(w.low, end - window)
                    var windowMatches: [Record] = []
                    var position = from
                    while position < end {
                        let (records, next) = try await log.read(topic: request.topic, partition: partition, from: position,
                                                                  maxRecords: Int(end - position))
                        for r in records where r.offset < end {
                            read += 1
                            if passes(r) { windowMatches.append(r) }
                        }
                        guard next > position else { break }
                        position = next
                    }
                    covered += Int(end - from)
                    // Keep the newest of the window when it holds more than are wanted; the rest waits for the next page.
                    let room = limit - matches.count
                    if windowMatches.count > room {
                        let kept = windowMatches.suffix(room)
                        matches = Array(kept) + matches
                        end = kept.first?.offset ?? end
                        break
                    }
                    matches = windowMatches + matches
                    end = from
                }
                reached[partition] = end
                done[partition] = end <= w.low
            }
            scanned += read
            found[partition] = matches
        }

        // Merge by time, each partition's records taken in position order (producers' clocks differ: a
        // partition's timestamps need not rise with its positions, and taking by time alone would skip or
        // repeat records across pages). Newer: from each partition's oldest; older: from each one's newest.
        if request.tail, request.direction == .newer {
            return tailPage(request, found: found, reached: reached, done: done, scanned: scanned, stopped: stopped,
                            skipped: tailSkipped + jumped, upperBound: jumped > 0 && !log.positionsHoldRecords, watermarks: info.partitions)
        }
        var heads: [Int32: Int] = [:]
        for (partition, matches) in found { heads[partition] = request.direction == .newer ? 0 : matches.count - 1 }
        var kept: [Record] = []
        var taken: [Int32: Int] = [:]
        while kept.count < limit {
            var best: Record?
            for (partition, matches) in found {
                guard let i = heads[partition], i >= 0, i < matches.count else { continue }
                let r = matches[i]
                guard let b = best else { best = r; continue }
                let better = request.direction == .newer
                    ? (r.timestampMillis, r.partition) < (b.timestampMillis, b.partition)
                    : (r.timestampMillis, -r.partition) > (b.timestampMillis, -b.partition)
                if better { best = r }
            }
            guard let r = best else { break }
            kept.append(r)
            taken[r.partition, default: 0] += 1
            heads[r.partition, default: 0] += request.direction == .newer ? 1 : -1
        }
        var positions = request.positions
        var exhausted = true
        for (partition, matches) in found {
            let count = taken[partition] ?? 0
            if count == matches.count {
                positions[partition] = reached[partition]
                if done[partition] != true { exhausted = false }
            } else {
                exhausted = false
                switch request.direction {
                // The kept ones are a prefix (newer) or a suffix (older) of the partition's matches.
                case .newer: positions[partition] = count > 0 ? matches[count - 1].offset + 1 : request.positions[partition]
                case .older: positions[partition] = count > 0 ? matches[matches.count - count].offset : request.positions[partition]
                }
            }
        }
        return MessagePage(request: request, records: kept, positions: positions, scanned: scanned,
                           exhausted: exhausted, stoppedEarly: stopped, watermarks: info.partitions)
    }

    /// A tail's page: every partition's matches merged by time, the newest `limit` kept (oldest first, as a
    /// `.newer` page), the older ones counted as skipped; each partition goes on from where it was read to.
    private func tailPage(_ request: MessageRequest, found: [Int32: [Record]], reached: [Int32: LogPosition], done: [Int32: Bool],
                          scanned: Int, stopped: Bool, skipped: Int64, upperBound: Bool, watermarks: [PartitionWatermarks]) -> MessagePage {
        let merged = found.values.joined().sorted { ($0.timestampMillis, $0.partition, $0.offset) < ($1.timestampMillis, $1.partition, $1.offset) }
        let kept = Array(merged.suffix(max(0, request.limit)))
        var positions = request.positions
        for (partition, at) in reached { positions[partition] = at }
        let exhausted = found.keys.allSatisfy { done[$0] == true }
        return MessagePage(request: request, records: kept, positions: positions, scanned: scanned, exhausted: exhausted,
                           stoppedEarly: stopped, watermarks: watermarks, skipped: skipped + Int64(merged.count - kept.count),
                           skippedIsUpperBound: upperBound)
    }
}
