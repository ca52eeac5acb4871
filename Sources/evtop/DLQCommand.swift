import Foundation
import ArgumentParser
import EventModel
import Dashboard
import TerminalUI
import Redrive

/// `evtop dlq`: dead-letter queues from the command line.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect dead-letter queues.",
        subcommands: [DLQListCommand.self, DLQRequeueCommand.self, DLQResumeCommand.self, DLQJobsCommand.self]
    )
}

/// `evtop dlq list`: the newest dead letters of every DLQ topic (or one), as text or JSON.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead letters, newest first, with where they came from and why they failed."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .customLong("dlq-topic"), help: ArgumentHelp("Only this DLQ topic.", valueName: "topic"))
    var dlqTopic: String?

    @Option(name: .long, help: ArgumentHelp("Newest letters per DLQ topic (1–\(DeadLetterModel.maxLettersPerTopic)).", valueName: "n"))
    var max: Int = 50

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (1...DeadLetterModel.maxLettersPerTopic).contains(max) else {
            throw ValidationError("--max must be between 1 and \(DeadLetterModel.maxLettersPerTopic)")
        }
    }

    func run() async throws {
        let resolved = try source.resolve()
        let log = try SourceFactory.open(resolved.url, readOnly: true, create: false, kafka: source.kafkaOptions(resolved.context))
        var matcher = DeadLetterTopics()
        if let patterns = resolved.context?.deadLetterPatterns { matcher = DeadLetterTopics(patterns: patterns) }
        let snapshot = try await log.snapshot()
        let topics: [TopicInfo]
        if let dlqTopic {
            guard let topic = snapshot.topics.first(where: { $0.name == dlqTopic }) else {
                throw ValidationError("no topic named \(TextWidth.sanitized(dlqTopic))")
            }
            topics = [topic]
        } else {
            let others = snapshot.topics.filter { !matcher.matchesPattern($0.name) && $0.retained > 0 }
            matcher.detectedByHeaders = Set(await DeadLetterLoader.probe(log: log, topics: others))
            topics = snapshot.topics.filter { matcher.isDeadLetterTopic($0.name) }.sorted { $0.name < $1.name }
        }
        var letters: [DeadLetter] = []
        for topic in topics {
            letters += try await DeadLetterLoader.load(log: log, topic: topic, limit: max)
        }
        let states = try DeadLetterLoader.redriveStates(letters, journalPath: try await JournalLocation.path(for: resolved.url, log: log))
        if json {
            print(TerminalSafe.json(try DLQOutput.json(letters, states: states)))
        } else {
            print(DLQOutput.table(letters, states: states), terminator: "")
        }
    }
}

/// Reads the newest dead letters of a DLQ topic (shared by the dashboard and `evtop dlq list`).
enum DeadLetterLoader {
    /// The newest `limit` letters of `topic` (over all partitions), parsed, newest first.
    static func load(log: any BrokerLog, topic: TopicInfo, limit: Int = DeadLetterModel.maxLettersPerTopic) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for p in topic.partitions where p.high > p.low {
            var next = Swift.max(p.low, p.high.subtractingSaturating(Int64(limit)))
            while next < p.high {
                let records = try await log.fetch(topic: topic.name, partition: p.partition, from: next,
                                                  maxRecords: Int(Swift.min(Int64(limit), p.high - next)))
                guard let last = records.last else { break }
                letters += records.map(DeadLetterParser.parse)
                next = last.offset + 1
            }
        }
        return Array(DeadLetterModel.newestFirst(letters).prefix(limit))
    }
}

extension DeadLetterLoader {
    /// Topics among `topics` whose newest record in some partition (first 16 partitions) carries
    /// dead-letter headers. A failed read just leaves the topic out.
    static func probe(log: any BrokerLog, topics: [TopicInfo]) async -> [String] {
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

/// Text and JSON renderings of dead letters for scripts.
enum DLQOutput {
    struct JSONRow: Encodable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var failedAt: String
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
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func position(_ d: DeadLetter) -> RecordPosition {
        RecordPosition(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset)
    }

    static func json(_ letters: [DeadLetter], states: [RecordPosition: RedriveItemState] = [:]) throws -> String {
        let out = letters.map { d -> JSONRow in
            let row = DeadLetterModel.row(d, redrive: states[position(d)])
            return JSONRow(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset,
                           failedAt: iso(d.record.timestampMillis), convention: d.convention.rawValue,
                           originalTopic: d.originalTopic, originalPartition: d.originalPartition, originalOffset: d.originalOffset,
                           consumerGroup: d.consumerGroup, exceptionClass: d.exceptionClass, causeClass: d.causeClass,
                           exceptionMessage: d.exceptionMessage, eventType: row.eventType.isEmpty ? nil : row.eventType,
                           correlationID: row.correlation.isEmpty ? nil : row.correlation, state: row.state, problems: d.problems)
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ letters: [DeadLetter], states: [RecordPosition: RedriveItemState] = [:]) -> String {
        let header = ["TOPIC", "PART", "OFFSET", "FAILED AT", "ORIGINAL", "EXCEPTION", "EVENT TYPE", "CORRELATION", "STATE"]
        let body = letters.map { d -> [String] in
            let r = DeadLetterModel.row(d, redrive: states[position(d)])
            return [d.record.topic, String(d.record.partition), String(d.record.offset), iso(d.record.timestampMillis),
                    r.original, TextWidth.truncated(r.exception, to: 60), r.eventType.isEmpty ? "-" : r.eventType,
                    r.correlation.isEmpty ? "-" : r.correlation, r.state].map(TextWidth.sanitized)
        }
        return TextTable.render(header: header, rows: body, rightAligned: [1, 2])
    }
}
