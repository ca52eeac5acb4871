import ArgumentParser
import App

/// `evtop collect`: only the OTLP receiver, writing spans into a store; no dashboard.
struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Receive OpenTelemetry traces (OTLP/HTTP) into a store, headless.",
        discussion: """
        Listens for OTLP/HTTP exports (POST /v1/traces, protobuf or JSON, gzip) and stores the spans in the \
        embedded store ($XDG_DATA_HOME/evtop/evtop.db unless --store is given), where the dashboard and \
        `evtop saga` find them. Stops on Ctrl-C or SIGTERM. Point an SDK at it with \
        OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Store file the spans go to (created when missing).", valueName: "path"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Address to listen on (port 0: any free port).", valueName: "host:port"))
    var otlp: String = OTLPListen.defaultAddress

    @OptionGroup var retention: SpanRetentionOptions

    func validate() throws {
        if try Usage.check({ try OTLPListen.parse(otlp) }) == .off { throw ValidationError("evtop collect needs an address; --otlp off leaves nothing to do") }
    }

    func run() async throws {
        try await Collector.run(store: store, otlp: otlp, limits: try retention.limits())
    }
}
