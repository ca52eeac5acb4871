import Foundation
import EventModel
import Dashboard
import TerminalUI
import Redrive

/// `evtop dlq list`: the newest dead letters of every DLQ topic (or one), as text or JSON.
public enum DeadLetterReport {
    /// Prints the newest `max` letters per DLQ topic with where they came from, why they failed and their requeue state.
    public static func list(source: SourceSelection, dlqTopic: String?, max: Int, json: Bool) async throws {
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: true)
        let log = opened.reader
        let topics: [TopicInfo]
        if let dlqTopic {
            let snapshot = try await log.snapshot()
            SourceLimitation.report(snapshot.limitation)
            guard let topic = snapshot.topics.first(where: { $0.name == dlqTopic }) else {
                throw UsageError("no topic named \(TextWidth.sanitized(dlqTopic))")
            }
            topics = [topic]
        } else {
            topics = try await everyDeadLetterTopic(log: log, patterns: resolved.context?.deadLetterPatterns)
        }
        var letters: [DeadLetter] = []
        for topic in topics {
            letters += try await DeadLetterLoader.load(log: log, topic: topic, limit: max)
        }
        let states = try DeadLetterLoader.redriveStates(letters, journalPath: try await SourceFiles.journalPath(of: log))
        if json {
            print(TerminalSafe.json(try DLQOutput.json(letters, states: states)))
        } else {
            print(DLQOutput.table(letters, states: states), terminator: "")
        }
    }
}

extension DeadLetterReport {
    /// Every DLQ topic of the source, by name: those matching the DLQ patterns (the context's, else the
    /// defaults), those the broker declares, and those whose newest records carry dead-letter headers.
    static func everyDeadLetterTopic(log: any LogReader, patterns: [String]?) async throws -> [TopicInfo] {
        var matcher = patterns.map { DeadLetterTopics(patterns: $0) } ?? DeadLetterTopics()
        let snapshot = try await log.snapshot()
        matcher.declaredByBroker = snapshot.deadLetterTopics
        SourceLimitation.report(snapshot.limitation)
        let others = snapshot.topics.filter { !matcher.matchesPattern($0.name) && $0.retained > 0 }
        matcher.detectedByHeaders = Set(await DeadLetterLoader.probe(log: log, topics: others))
        return snapshot.topics.filter { matcher.isDeadLetterTopic($0.name) }.sorted { $0.name < $1.name }
    }
}

/// Reads the newest dead letters of a DLQ topic (shared by the dashboard, `evtop snapshot` and `evtop dlq list`).
enum DeadLetterLoader {
    /// The newest `limit` letters of `topic` (over all partitions), parsed, newest first.
    static func load(log: any LogReader, topic: TopicInfo, limit: Int = DeadLetterModel.maxLettersPerTopic) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for p in topic.partitions where !p.readable.isEmpty {
            // A log's newest letters are at its end; a queue can only be browsed from its head.
            let range = p.readable
            let start = p.hasPositions ? Swift.max(range.lowerBound, range.upperBound.subtractingSaturating(Int64(limit))) : range.lowerBound
            let end = p.hasPositions ? range.upperBound : Swift.min(range.upperBound, start.addingSaturating(Int64(limit)))
            var reader = PartitionReader(log: log, topic: topic.name, partition: p.partition, from: start, to: end, batchSize: limit)
            while let records = try await reader.next() {
                letters += records.map(DeadLetterParser.parse)
            }
        }
        return Array(DeadLetterModel.newestFirst(letters).prefix(limit))
    }

    /// Topics among `topics` whose newest record in some partition (first 16 partitions) carries
    /// dead-letter headers. A failed read just leaves the topic out.
    static func probe(log: any LogReader, topics: [TopicInfo]) async -> [String] {
        var found: [String] = []
        for topic in topics {
            for p in topic.partitions.prefix(16) where p.high > p.low {
                guard let records = try? await log.fetch(topic: topic.name, partition: p.partition, from: p.high - 1, maxRecords: 1),
                      let last = records.last else { continue }
                if DeadLetterParser.hasDeadLetterHeaders(last) { found.append(topic.name); break }
            }
        }
        return found
    }

    /// Journal states of `letters` (none when there is no journal yet).
    static func redriveStates(_ letters: [DeadLetter], journalPath: String) throws -> [RecordPosition: RedriveItemState] {
        guard !letters.isEmpty, FileManager.default.fileExists(atPath: journalPath) else { return [:] }
        let journal = try RedriveJournal(path: journalPath, readOnly: true)
        var out: [RecordPosition: RedriveItemState] = [:]
        for (topic, group) in Dictionary(grouping: letters, by: \.record.topic) {
            out.merge(try journal.states(topic: topic, positions: group.map { ($0.record.partition, $0.record.offset, $0.record.timestampMillis) })) { a, _ in a }
        }
        return out
    }
}

/// Picks dead letters from a DLQ topic for a requeue.
enum DeadLetterSelection {
    /// Letters of `topic`, oldest first, that match `filter` and are not already requeued or in a
    /// job; at most `max`. Reads partitions in chunks: memory O(partitions × max), not O(topic).
    static func select(log: any LogReader, topic: String, filter: String, max: Int?, journal: RedriveJournal?) async throws -> [(time: Int64, position: RecordPosition)] {
        try await selectCounting(log: log, topic: topic, filter: filter, max: max, journal: journal).letters
    }

    /// ``select(log:topic:filter:max:journal:)``, also counting the matching letters the journal says are
    /// requeued or in a job already (read while selecting; within the partitions' first `max` matches).
    static func selectCounting(log: any LogReader, topic: String, filter: String, max: Int?,
                               journal: RedriveJournal?) async throws -> (letters: [(time: Int64, position: RecordPosition)], alreadyMoved: Int) {
        let info: TopicInfo
        do { info = try await log.watermarks(topic: topic) } catch BrokerError.unknownTopic {
            throw OperatorError("no topic named \(TextWidth.sanitized(topic))")
        }
        let rowFilter = RowFilter(filter)
        let offset = TimeZone.current.secondsFromGMT()
        let limit = max ?? Int.max
        var candidates: [(time: Int64, position: RecordPosition)] = []
        var alreadyMoved = 0
        for p in info.partitions where p.high > p.low {
            var taken = 0
            var reader = PartitionReader(log: log, topic: topic, partition: p.partition, from: p.low, to: p.high, batchSize: 1000)
            while taken < limit, let records = try await reader.next() {
                let states = try journal?.states(topic: topic, positions: records.map { ($0.partition, $0.offset, $0.timestampMillis) }) ?? [:]
                for r in records where taken < limit {
                    let position = RecordPosition(topic: r.topic, partition: r.partition, offset: r.offset)
                    let state = states[position]
                    if !filter.isEmpty {
                        let row = DeadLetterModel.row(DeadLetterParser.parse(r), redrive: state)
                        guard rowFilter.matches(DeadLetterModel.filterText(row, utcOffsetSeconds: offset)) else { continue }
                    }
                    if let state, state != .failed {
                        alreadyMoved += 1
                        continue
                    }
                    candidates.append((r.timestampMillis, position))
                    taken += 1
                }
            }
        }
        candidates.sort { a, b in
            a.time != b.time ? a.time < b.time : (a.position.partition, a.position.offset) < (b.position.partition, b.position.offset)
        }
        return (Array(candidates.prefix(limit)), alreadyMoved)
    }
}

/// Text and JSON renderings of dead letters for scripts.
enum DLQOutput {
    struct JSONRow: Encodable {
        var topic: String
        var partition: Int32
        var offset: Int64
        /// Nil when the letter carries no time (a message without a `timestamp` property or `x-death`).
        var failedAt: String?
        var convention: String
        var originalTopic: String?
        var originalPartition: Int32?
        var originalOffset: Int64?
        var consumerGroup: String?
        var exceptionClass: String?
        var causeClass: String?
        var exceptionMessage: String?
        var eventType: String?
        var correlationID: String?
        var state: String
        var problems: [String]
    }

    static func iso(_ millis: Int64) -> String {
        // Whole seconds through the formatter, milliseconds by integer arithmetic: a Double of 1796428429714 / 1000
        // is …429.71399…, which the formatter would print as .713.
        let (seconds, ms) = millis.quotientAndRemainder(dividingBy: 1000)
        let (whole, rest) = ms < 0 ? (seconds - 1, ms + 1000) : (seconds, ms)
        let text = Date(timeIntervalSince1970: Double(whole)).formatted(Date.ISO8601FormatStyle())
        let pad = rest < 10 ? "00" : (rest < 100 ? "0" : "")
        return text.hasSuffix("Z") ? String(text.dropLast()) + ".\(pad)\(rest)Z" : text
    }

    static func position(_ d: DeadLetter) -> RecordPosition {
        RecordPosition(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset)
    }

    static func json(_ letters: [DeadLetter], states: [RecordPosition: RedriveItemState] = [:]) throws -> String {
        try ScriptJSON.encode(letters.map { row($0, state: states[position($0)]) })
    }

    /// What evtop read in a letter, with its requeue state.
    static func row(_ d: DeadLetter, state: RedriveItemState?) -> JSONRow {
        let row = DeadLetterModel.row(d, redrive: state)
        return JSONRow(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset,
                       failedAt: d.failedAtMillis.map(iso), convention: d.convention.rawValue,
                       originalTopic: d.originalTopic, originalPartition: d.originalPartition, originalOffset: d.originalOffset,
                       consumerGroup: d.consumerGroup, exceptionClass: d.exceptionClass, causeClass: d.causeClass,
                       exceptionMessage: d.exceptionMessage, eventType: row.eventType.isEmpty ? nil : row.eventType,
                       correlationID: row.correlation.isEmpty ? nil : row.correlation, state: row.state, problems: d.problems)
    }

    static func table(_ letters: [DeadLetter], states: [RecordPosition: RedriveItemState] = [:]) -> String {
        let header = ["TOPIC", "PART", "OFFSET", "FAILED AT", "ORIGINAL", "EXCEPTION", "EVENT TYPE", "CORRELATION", "STATE"]
        let body = letters.map { d -> [String] in
            let r = DeadLetterModel.row(d, redrive: states[position(d)])
            return [d.record.topic, String(d.record.partition), String(d.record.offset),
                    d.failedAtMillis.map(iso) ?? "unknown",
                    r.original, TextWidth.truncated(r.exception, to: 60), r.eventType.isEmpty ? "-" : r.eventType,
                    r.correlation.isEmpty ? "-" : r.correlation, r.state].map(TextWidth.sanitized)
        }
        return TextTable.render(header: header, rows: body, rightAligned: [1, 2])
    }
}
