import ArgumentParser
import App

/// `evtop topics`: the topics table, as text or JSON.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Print topics with partitions, totals and produce rates."
    )

    @OptionGroup var source: SourceOptions

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds between the two samples rates are computed from (0: no rates).", valueName: "seconds"))
    var interval: Double = 1

    @Option(name: .long, help: ArgumentHelp("Only topics matching this regex (a leading ! inverts).", valueName: "regex"))
    var filter: String?

    func validate() throws {
        guard interval >= 0, interval <= 3600 else { throw ValidationError("--interval must be between 0 and 3600 seconds") }
    }

    func run() async throws {
        try await TopicsReport.run(source: source.selection(), json: json, interval: interval, filter: filter)
    }
}
