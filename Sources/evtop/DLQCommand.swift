import Foundation
import ArgumentParser
import EventModel
import Dashboard
import TerminalUI

/// `evtop dlq`: dead-letter queues from the command line.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect dead-letter queues.",
        subcommands: [DLQListCommand.self]
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
            topics = snapshot.topics.filter { matcher.isDeadLetterTopic($0.name) }.sorted { $0.name < $1.name }
        }
        var letters: [DeadLetter] = []
        for topic in topics {
            letters += try await DeadLetterLoader.load(log: log, topic: topic, limit: max)
        }
        if json {
            print(TerminalSafe.json(try DLQOutput.json(letters)))
        } else {
            print(DLQOutput.table(letters), terminator: "")
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

    static func json(_ letters: [DeadLetter]) throws -> String {
        let out = letters.map { d -> JSONRow in
            let row = DeadLetterModel.row(d)
            return JSONRow(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset,
                           failedAt: iso(d.record.timestampMillis), convention: d.convention.rawValue,
                           originalTopic: d.originalTopic, originalPartition: d.originalPartition, originalOffset: d.originalOffset,
                           consumerGroup: d.consumerGroup, exceptionClass: d.exceptionClass, causeClass: d.causeClass,
                           exceptionMessage: d.exceptionMessage, eventType: row.eventType.isEmpty ? nil : row.eventType,
                           correlationID: row.correlation.isEmpty ? nil : row.correlation, state: row.state, problems: d.problems)
        }
        return try ScriptJSON.encode(out)
    }

    static func table(_ letters: [DeadLetter]) -> String {
        let header = ["TOPIC", "PART", "OFFSET", "FAILED AT", "ORIGINAL", "EXCEPTION", "EVENT TYPE", "CORRELATION", "STATE"]
        let body = letters.map { d -> [String] in
            let r = DeadLetterModel.row(d)
            return [d.record.topic, String(d.record.partition), String(d.record.offset), iso(d.record.timestampMillis),
                    r.original, TextWidth.truncated(r.exception, to: 60), r.eventType.isEmpty ? "-" : r.eventType,
                    r.correlation.isEmpty ? "-" : r.correlation, r.state].map(TextWidth.sanitized)
        }
        return TextTable.render(header: header, rows: body, rightAligned: [1, 2])
    }
}
