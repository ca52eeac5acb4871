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
        OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318. With --broker amqp://… (or --context) it also runs \
        the RabbitMQ sagas tap headless: a queue of its own bound to the exchanges (--tap), recording copies of \
        the messages and the spans into the broker's tap store under $XDG_STATE_HOME/evtop/tap/, where the \
        dashboard and `evtop saga --broker …` read them. The service queues are never read. There, \
        --record-retention and --record-max bound the tap store's copies (each exchange is one partition).
        """
    )

    @Option(name: .long, help: ArgumentHelp("Store file the spans go to (created when missing).", valueName: "path"))
    var store: String?

    @OptionGroup var source: SourceOptions
    @OptionGroup var tap: TapOptions

    @Option(name: .long, help: ArgumentHelp("Address to listen on (port 0: any free port).", valueName: "host:port"))
    var otlp: String = OTLPListen.defaultAddress

    @OptionGroup var retention: SpanRetentionOptions

    @OptionGroup var records: RecordRetentionOptions

    func validate() throws {
        let tapping = source.broker != nil || source.context != nil
        if try Usage.check({ try OTLPListen.parse(otlp) }) == .off, !tapping { throw ValidationError("evtop collect needs an address; --otlp off leaves nothing to do") }
        if source.readOnly { throw ValidationError("evtop collect writes (spans, and a broker's tap): --read-only leaves nothing to do") }
    }

    func run() async throws {
        let selection = tap.adding(to: source.selection())
        if selection.broker != nil || selection.context != nil {
            if store != nil { throw ValidationError("--store is for the spans of an embedded store; with --broker the spans go to the broker's tap store") }
            try await Collector.runTap(source: selection, otlp: otlp, limits: try retention.limits(), records: try records.policy())
        } else {
            try await Collector.run(store: store, otlp: otlp, limits: try retention.limits(), records: try records.policy())
        }
    }
}
