import Foundation
import ArgumentParser
import Logging
import TerminalUI
import NCursesTerminal

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
                      ReplayCommand.self, SagaCommand.self, DemoCommand.self, CollectCommand.self],
        defaultSubcommand: DashboardCommand.self
    )

    /// Runs the command; errors that carry text from outside (topic names, store messages) are
    /// escaped before they reach the terminal.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let terminated as TerminatedBySignal {
            NCursesBackend.reraise(terminated.signal)
        } catch {
            exit(withError: TerminalSafe.error(error))
        }
    }
}

/// Keeps untrusted text from steering the terminal in plain (non-ncurses) output.
enum TerminalSafe {
    /// Errors from ArgumentParser pass as they are; any other error's text is escaped.
    static func error(_ error: Error) -> Error {
        if error is ExitCode || error is CleanExit || error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            return error
        }
        return OperatorError(TextWidth.sanitized(String(describing: error)))
    }

    /// JSON with the characters JSONEncoder leaves raw but terminals act on (DEL, C1 controls
    /// such as CSI U+009B, bidi overrides) written as `\uXXXX` escapes; still the same JSON value.
    static func json(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x7F || (0x80...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                || v == 0x2028 || v == 0x2029 {
                out.append(contentsOf: String(format: "\\u%04x", v).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}

/// Reports an error on stderr in one line and exits non-zero; used for failures that are not usage errors.
struct OperatorError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
