import ArgumentParser
import App

/// `evtop record`: an incident into a file that `--broker file:PATH` plays back later.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record an incident into a file: snapshots over time, the records of some topics, their spans.",
        discussion: """
        Takes a snapshot of the source every --interval (watermarks, groups and their offsets), copies the \
        records of the topics --topics matches from --from on (what :seek takes: -30m, an offset, beginning), \
        and at the end the spans of their sagas and a correlation index, into a new file. Reads with assign() \
        only: nothing is committed or written to the source. Stops after --duration, or on Ctrl-C (the file \
        is then finished; a second Ctrl-C abandons it and removes the file). Open the file with evtop --broker file:PATH: every \
        view works, read-only, with the clock frozen at the recording's end; [ and ] move it.
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("The file to create (must not exist).", valueName: "path"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Only topics whose name matches this regular expression.", valueName: "regex"))
    var topics: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Where records start (-30m, beginning, an offset: as :seek).", valueName: "where"))
    var from: String = "-15m"

    @Option(name: .long, help: ArgumentHelp("How long to record (30s, 5m, 1h); until Ctrl-C unless given.", valueName: "duration"))
    var duration: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between snapshots.", valueName: "seconds"))
    var interval: Double = 1

    @Option(name: .long, help: ArgumentHelp("Records kept at most (snapshots go on after it).", valueName: "n"))
    var maxRecords: Int = RecordingPlan.defaultMaxRecords

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be between 0.1 and 3600 seconds") }
        guard maxRecords >= 0 else { throw ValidationError("--max-records must be 0 or more") }
    }

    func run() async throws {
        try await IncidentRecording.run(source: source.selection(), options: .init(out: out, topics: topics, from: from, duration: duration,
                                                                               interval: interval, maxRecords: maxRecords))
    }
}
