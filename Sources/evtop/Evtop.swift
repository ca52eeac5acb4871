import Foundation
import ArgumentParser
import App

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
        subcommands: [DashboardCommand.self, TopicsCommand.self, LagCommand.self, SnapshotCommand.self, DLQCommand.self,
                      ReplayCommand.self, SagaCommand.self, MessagesCommand.self, RecordCommand.self, DoctorCommand.self, DemoCommand.self, CollectCommand.self],
        defaultSubcommand: DashboardCommand.self
    )

    /// Runs the command; errors that carry text from outside (topic names, store messages) are
    /// escaped before they reach the terminal.
    static func main() async {
        // Library logs (librdkafka's among them) go to the log file, never between a command's output
        // and its one-line error; once, for whichever command runs.
        AppLogging.bootstrap()
        do {
            var command = try parseAsRoot()
            // Ctrl-C ends a command at once (or cancels its job); the dashboard restores the terminal first, its own way.
            if !(command is DashboardCommand), !((command as? DemoCommand)?.opensDashboard ?? false) { Interrupts.install() }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let terminated as TerminatedBySignal {
            DashboardApp.reraise(terminated.signal)
        } catch let status as ExitStatus {
            exit(withError: ExitCode(status.code))
        } catch let usage as UsageError {
            exit(withError: ValidationError(TerminalSafe.text(usage)))
        } catch {
            exit(withError: Self.safe(error))
        }
    }

    /// Errors from ArgumentParser pass as they are; any other error's text is escaped.
    static func safe(_ error: Error) -> Error {
        if error is ExitCode || error is CleanExit || error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            return error
        }
        return OperatorError(TerminalSafe.text(error))
    }
}
