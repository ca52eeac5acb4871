import Foundation
import ArgumentParser
import Logging

/// evtop: a terminal dashboard for event-driven systems.
@main
struct Evtop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evtop",
        abstract: "A terminal dashboard for event-driven systems: topic throughput, consumer lag, sagas, dead letters.",
        discussion: """
        With no command, opens the dashboard on --broker, the config's context, or the default \
        embedded store ($XDG_DATA_HOME/evtop/evtop.db). Keys: ? in the dashboard.
        """,
        version: "0.1.0",
        subcommands: [DashboardCommand.self, TopicsCommand.self, LagCommand.self, SnapshotCommand.self, DemoCommand.self],
        defaultSubcommand: DashboardCommand.self
    )
}

/// Reports an error on stderr in one line and exits non-zero; used for failures that are not usage errors.
struct OperatorError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
