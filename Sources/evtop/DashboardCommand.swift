import ArgumentParser
import App

/// Opens the interactive dashboard.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the dashboard (the default when no command is given)."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var tap: TapOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var retention: SpanRetentionOptions

    @Option(name: .long, help: ArgumentHelp("Open the timeline of this correlation ID.", valueName: "id"))
    var follow: String?

    @Option(name: .long, help: ArgumentHelp("Kafka consumer group to show even when the cluster cannot list its groups (repeatable; adds to the context's groups).", valueName: "group"))
    var group: [String] = []

    @Option(name: .long, help: ArgumentHelp("OTLP/HTTP trace receiver address, or off (default 127.0.0.1:4318 on an embedded store or a tapped RabbitMQ broker).", valueName: "host:port|off"))
    var otlp: String?

    func validate() throws {
        if let otlp { _ = try Usage.check { try OTLPListen.parse(otlp) } }
    }

    func run() async throws {
        try await DashboardApp.run(source: tap.adding(to: source.selection(groups: group)), display: display.settings, follow: follow, otlp: otlp,
                                   spanLimits: try retention.limits())
    }
}
