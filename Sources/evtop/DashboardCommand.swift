import Foundation
import ArgumentParser
import Logging
import EventModel
import TerminalUI
import Dashboard

/// Opens the interactive dashboard.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the dashboard (the default when no command is given)."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var retention: SpanRetentionOptions

    @Option(name: .long, help: ArgumentHelp("Open the timeline of this correlation ID.", valueName: "id"))
    var follow: String?

    @Option(name: .long, help: ArgumentHelp("Kafka consumer group to show even when the cluster cannot list its groups (repeatable; adds to the context's groups).", valueName: "group"))
    var group: [String] = []

    @Option(name: .long, help: ArgumentHelp("OTLP/HTTP trace receiver address, or off (default 127.0.0.1:4318 on an embedded store).", valueName: "host:port|off"))
    var otlp: String?

    func validate() throws {
        if let otlp { _ = try OTLPListen.parse(otlp) }
    }

    func run() async throws {
        FileLogHandler.bootstrap()
        let resolved = try source.resolve()
        let theme = try display.loadTheme(config: resolved.config)
        let log = try SourceFactory.open(resolved.url, readOnly: source.readOnly, create: resolved.isDefault,
                                         kafka: source.kafkaOptions(resolved.context, groups: group))
        var state = AppState.initial(source: log.sourceDescription, context: resolved.context,
                                     size: Size(width: 80, height: 24), readOnly: source.readOnly, theme: theme.name)
        if resolved.isDefault {
            state.hint = "empty store: run `evtop demo`, or attach with --broker URL"
        }
        let assembler = try SagaSetup.assembler(context: resolved.context, configPath: resolved.config?.path)
        // A Kafka index is named after the cluster's id, asked for in the background: a cluster that is
        // down at start gets the bounded scan for this session, and the first frame never waits.
        let (url, readOnly) = (resolved.url, source.readOnly)
        let sagas = PendingSagaLoader {
            SagaLoader.make(log: log, url: url, readOnly: readOnly, assembler: assembler, traces: log as? any TraceStore,
                            clusterID: await SourceFiles.clusterID(of: log))
        }
        if let follow { Reducer.openSaga(&state, follow, following: true) }
        let receiver = await startDashboardReceiver(otlp, log: log, readOnly: source.readOnly, limits: try retention.limits(), state: &state)
        do {
            try await DashboardRunner.run(log: log, state: state, theme: theme,
                                          refresh: .milliseconds(Int(display.refresh * 1000)), noColor: display.noColor,
                                          journal: JournalLocator(url: resolved.url, log: log), sagas: sagas)
        } catch {
            await receiver?.stop()
            throw error
        }
        await receiver?.stop()
    }
}
