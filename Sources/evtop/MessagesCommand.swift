import ArgumentParser
import App

/// `evtop messages TOPIC`: a topic's records, from an offset or a time, filtered, as text or JSON.
struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Print a topic's records (key, headers, value; base64 when not UTF-8) from an offset or a time.",
        discussion: """
        Reads with assign() only: no consumer group is joined and nothing is committed. --from takes what \
        :seek takes: beginning, end, an offset (1200), -N (N before the end of each partition), a time ago \
        (-15m, -2h, -1d), a clock time (12:03) or a date (2026-12-03T12:03, Z or +01:00 for a zone). --filter \
        takes space-separated terms that must all hold, each negated by a leading !: key=VALUE, \
        header:NAME[=VALUE], type=EVENT-TYPE, cid=CORRELATION-ID, /json/pointer=VALUE (also !=, >, >=, <, <=). \
        Records come oldest first, merged by timestamp across partitions; with --limit 0, as they are read \
        (in order within each partition, as kcat prints them). With a filter, stderr says how many records \
        were read, and the exit status is 1 when none matched.
        """
    )

    @OptionGroup var source: SourceOptions

    @Argument(help: ArgumentHelp("The topic (a queue on RabbitMQ).", valueName: "topic"))
    var topic: String

    @Option(name: .long, help: ArgumentHelp("Only this partition.", valueName: "n"))
    var partition: Int32?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Where to start (see above; -15m and -N are read as values).", valueName: "where"))
    var from: String = "beginning"

    @Option(name: .long, help: ArgumentHelp("Records printed at most: 100 unless given (0: all, up to the end as found); with -f none unless given.", valueName: "n"))
    var limit: Int?

    @Option(name: .long, help: ArgumentHelp("Only records matching these terms (see above).", valueName: "terms"))
    var filter: String?

    @Flag(name: .long, help: "One JSON array.")
    var json = false

    @Flag(name: .long, help: "One JSON document per line.")
    var jsonl = false

    @Flag(name: [.customShort("f"), .long], help: "Keep printing records as they arrive (ctrl-c stops).")
    var follow = false

    func validate() throws {
        guard (limit ?? 0) >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        guard !(json && jsonl) else { throw ValidationError("--json and --jsonl exclude each other") }
        if let partition, partition < 0 { throw ValidationError("--partition must be 0 or more") }
    }

    func run() async throws {
        let options = MessagesReport.Options(topic: topic, partition: partition, from: from, limit: limit ?? (follow ? 0 : 100),
                                             filter: filter, format: json ? .json : (jsonl ? .jsonl : .text), follow: follow)
        let status = try await MessagesReport.run(source: source.selection(), options: options)
        if status != 0 { throw ExitCode(status) }
    }
}
