import ArgumentParser
import Dashboard
import App

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
        try await DeadLetterReport.list(source: source.selection(), dlqTopic: dlqTopic, max: max, json: json)
    }
}

/// `evtop dlq requeue`: sends dead letters back to their original topic (or `--to`), exactly once.
struct DLQRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Requeue dead letters, oldest first, exactly once (through the redrive journal).",
        discussion: """
        Each letter goes back to the topic its headers name (kafka_dlt-original-topic, \
        __connect.errors.topic), to its original partition, with key, value and its non-DLT headers, \
        plus evtop-redrive-id. Letters an earlier job requeued, or that a job still running holds, are skipped. A job killed \
        midway is finished by the next requeue, `evtop dlq resume` or the dashboard. \
        Exit status: 0 done, 1 some letters failed (listed), 130 cancelled.
        """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var move: MoveOptions

    @Option(name: .customLong("dlq-topic"), help: ArgumentHelp("The DLQ topic to requeue from.", valueName: "topic"))
    var dlqTopic: String?

    @Flag(name: .customLong("all-dlqs"), help: "With --dry-run: every DLQ topic at once, each one's figures and the totals.")
    var allDLQs = false

    @Option(name: .long, help: ArgumentHelp("Send every letter to this topic (on RabbitMQ: this queue) instead of where it came from.", valueName: "topic"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("At most this many letters (oldest first).", valueName: "n"))
    var max: Int?

    @Option(name: .long, help: ArgumentHelp("Only letters whose row matches this regex (as the dashboard's / filter; !x inverts).", valueName: "expr"))
    var filter: String?

    func validate() throws {
        if let max, max < 1 { throw ValidationError("--max must be at least 1") }
        if allDLQs {
            guard dlqTopic == nil else { throw ValidationError("--all-dlqs and --dlq-topic exclude each other") }
            guard move.dryRun else { throw ValidationError("--all-dlqs is for a dry run (add --dry-run); a requeue names one DLQ with --dlq-topic") }
        } else if dlqTopic == nil {
            throw ValidationError("name the DLQ with --dlq-topic (or --all-dlqs --dry-run to see what every DLQ would requeue)")
        }
    }

    func run() async throws {
        if allDLQs {
            return try await RedriveJobs.dryRunEveryDLQ(source: source.selection(), move: move.settings, to: to, max: max, filter: filter)
        }
        guard let dlqTopic else { throw ValidationError("name the DLQ with --dlq-topic") }
        try await RedriveJobs.requeue(source: source.selection(), move: move.settings, dlqTopic: dlqTopic, to: to, max: max, filter: filter)
    }
}

/// `evtop dlq resume`: finishes jobs a killed process left behind, then exits.
struct DLQResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish redrive and replay jobs that a killed or crashed evtop left midway (exactly once)."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default as for requeue).", valueName: "path"))
    var journal: String?

    func run() async throws {
        try await RedriveJobs.resume(source: source.selection(), journal: journal)
    }
}

/// `evtop dlq jobs`: the audit trail of redrive and replay jobs.
struct DLQJobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List redrive and replay jobs (who, when, what, where, counts), newest first."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Newest jobs to show.", valueName: "n"))
    var max: Int = 50

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default as for requeue).", valueName: "path"))
    var journal: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        try await RedriveJobs.jobs(source: source.selection(), journal: journal, max: max, json: json)
    }
}

