import ArgumentParser
import EventModel
import TerminalUI
import Dashboard
import App

/// `evtop saga [ID]`: one saga's timeline, or the recent sagas, as text or JSON.
struct SagaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saga",
        abstract: "Print a saga's timeline by correlation ID (without an ID: the most recently active sagas).",
        discussion: """
        Lookups go through the correlation index (it catches up first): kept in the store file for an embedded \
        store (with --read-only the newest records are scanned instead), in a local file under \
        $XDG_STATE_HOME/evtop/index/ for a Kafka cluster (read with assign() only: no consumer group is joined, \
        nothing is committed). Exit status 1 when no record or span has the ID.
        """
    )

    @OptionGroup var source: SourceOptions

    @Argument(help: ArgumentHelp("Correlation ID (e.g. an order id).", valueName: "id"))
    var id: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Sagas listed without an ID (1–\(SagaModel.maxListRows)).", valueName: "n"))
    var limit: Int = 20

    @Option(name: .long, help: ArgumentHelp("Only sagas in this state when listing (running, completed, compensating, compensated, failed, timed-out).", valueName: "state"))
    var state: String?

    @Option(name: .long, help: "Width of the printed timeline.")
    var width: Int = 100

    func validate() throws {
        guard (1...SagaModel.maxListRows).contains(limit) else { throw ValidationError("--limit must be between 1 and \(SagaModel.maxListRows)") }
        guard (40...1000).contains(width) else { throw ValidationError("--width must be between 40 and 1000") }
        if let state, SagaState.named(state) == nil {
            throw ValidationError("unknown state '\(TextWidth.sanitized(state))' (running, completed, compensating, compensated, failed, timed-out)")
        }
    }

    func run() async throws {
        let status = try await SagaReport.run(source: source.selection(), id: id, json: json, limit: limit, state: state, width: width)
        if status != 0 { throw ExitCode(status) }
    }
}
