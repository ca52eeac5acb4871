import ArgumentParser
import App

/// `evtop lag`: consumer-group health for scripts and monitoring, with a status exit code.
struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Print consumer-group lag, time behind and Burrow status.",
        discussion: """
        Samples the broker every --interval seconds for --window seconds, then evaluates each \
        group with Burrow's rules. Exit status: 0 every group OK, 1 some group WARN, 2 any group \
        STALL, STOP, REWIND or ERR, 3 evtop could not evaluate (bad source, unknown group, or \
        a group whose broker does not report what a rule needs: UNKNOWN, and none worse).
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Only this group (repeatable). On RabbitMQ without its management API, the queues whose depth is read over AMQP.", valueName: "group"))
    var group: [String] = []

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds to sample before evaluating.", valueName: "seconds"))
    var window: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds between samples.", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard window >= 0, window <= 3600 else { throw ValidationError("--window must be between 0 and 3600 seconds") }
        guard interval >= 0.05, interval <= 60 else { throw ValidationError("--interval must be between 0.05 and 60 seconds") }
    }

    func run() async throws {
        let status = try await LagReport.run(source: source.selection(), groups: group, json: json, window: window, interval: interval)
        throw ExitCode(status)
    }
}
