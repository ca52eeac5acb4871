import ArgumentParser
import App

/// Options shared by the commands that write (requeue, replay).
struct MoveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Messages per second (default: as fast as the broker takes them).", valueName: "n"))
    var rate: Double?

    @Flag(name: .long, help: "Show what would move, and where; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation (needed when stdin is not a terminal).")
    var yes = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Redrive journal (default: $XDG_STATE_HOME/evtop/redrive/, named after the source's id).", valueName: "path"))
    var journal: String?

    func validate() throws {
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be between 0 and 1000000 messages per second") }
    }

    var settings: MoveSettings { MoveSettings(rate: rate, dryRun: dryRun, yes: yes, json: json, journal: journal) }
}

/// `evtop replay`: copies a range of records to another topic (again on purpose, each time it runs).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Copy a range of records from one topic to another, through the redrive journal.",
        discussion: """
        Copies offsets FROM..<FROM+LIMIT of one partition (--partition), or of every partition when \
        --partition is not given, keeping key, value, timestamp and headers, to the same partition \
        number of the target when it has one. Each run is a new job: replaying a range twice copies it twice, \
        but a killed replay resumes without duplicates.
        """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var move: MoveOptions

    @Option(name: .customLong("source-topic"), help: ArgumentHelp("Topic to copy from.", valueName: "topic"))
    var sourceTopic: String

    @Option(name: .customLong("target-topic"), help: ArgumentHelp("Topic to copy to (must exist).", valueName: "topic"))
    var targetTopic: String

    @Option(name: .customLong("from-offset"), help: ArgumentHelp("First offset to copy.", valueName: "offset"))
    var fromOffset: Int64

    @Option(name: .long, help: ArgumentHelp("Records to copy per partition.", valueName: "n"))
    var limit: Int64

    @Option(name: .long, help: ArgumentHelp("Only this partition.", valueName: "p"))
    var partition: Int32?

    func validate() throws {
        guard fromOffset >= 0 else { throw ValidationError("--from-offset must be 0 or more") }
        guard limit >= 1, limit <= 10_000_000 else { throw ValidationError("--limit must be between 1 and 10000000") }
        guard sourceTopic != targetTopic else { throw ValidationError("--source-topic and --target-topic must differ") }
    }

    func run() async throws {
        try await RedriveJobs.replay(source: source.selection(), move: move.settings, sourceTopic: sourceTopic, targetTopic: targetTopic,
                                     fromOffset: fromOffset, limit: limit, partition: partition)
    }
}
