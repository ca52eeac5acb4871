import ArgumentParser
import App
import EventModel
import Simulator

/// `evtop demo`: the simulated order-fulfillment system on the embedded store, with the dashboard on top.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the demo order system (orders, payments, inventory, shipping) and watch it.",
        discussion: """
        The demo writes to a fresh embedded store ($XDG_DATA_HOME/evtop/demo.db unless --store is given) \
        and opens the dashboard on it. With --headless only the simulator runs, so that another \
        `evtop --broker sqlite:FILE` can attach to the same file. With --broker it runs on Kafka or on a \
        RabbitMQ vhost (exchanges, a queue per service, a dead-letter exchange) instead.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Store file the demo writes (an existing evtop store is continued).", valueName: "path"))
    var store: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Run the demo on this broker instead: kafka://HOST:PORT[,HOST:PORT], amqp://USER:PASSWORD@HOST:5672/VHOST or sqlite:PATH.", valueName: "url"))
    var broker: String?

    @Option(name: .long, help: ArgumentHelp("RabbitMQ management API (default http://HOST:15672 of the amqp:// broker).", valueName: "url"))
    var management: String?

    @Option(name: .customShort("X"), help: ArgumentHelp("librdkafka property key=value for --broker kafka://... (repeatable).", valueName: "key=value"))
    var properties: [String] = []

    @Option(name: .long, help: ArgumentHelp("Mean orders per second.", valueName: "n"))
    var rate: Double = 20

    @Option(name: .long, help: ArgumentHelp("Random seed: the same seed gives the same traffic.", valueName: "n"))
    var seed: UInt64 = 42

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds (default: run until quit).", valueName: "seconds"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Fraction of messages that are poison and end on a DLT.", valueName: "fraction"))
    var poisonRate: Double = 0.003

    @Option(name: .long, help: ArgumentHelp("Design faults to inject: all, none, or a comma-separated list of duplicates, command-events, schema-drift, fat-events.", valueName: "list"))
    var faults: String = "all"

    @Flag(name: .long, help: "Run only the simulator; print progress instead of the dashboard.")
    var headless = false

    /// True when the demo draws the dashboard (which handles its own signals).
    var opensDashboard: Bool { !headless }

    @Option(name: .long, help: ArgumentHelp("Where the demo's own OTLP receiver listens; its services export spans to it (off: no spans).", valueName: "host:port|off"))
    var otlp: String = OTLPListen.defaultAddress

    @OptionGroup var display: DisplayOptions

    @OptionGroup var records: RecordRetentionOptions

    func validate() throws {
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be between 0 and 100000 orders/s") }
        guard (0...1).contains(poisonRate) else { throw ValidationError("--poison-rate must be between 0 and 1") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        _ = try faultSet()
        _ = try Usage.check { try OTLPListen.parse(otlp) }
    }

    /// The parsed `--faults` list; a bad name is a validation error that lists the valid ones.
    func faultSet() throws -> Set<DemoFault> {
        switch DemoFault.parseList(faults) {
        case .success(let set): return set
        case .failure(let error): throw ValidationError("--faults: \(error)")
        }
    }

    func run() async throws {
        let properties = self.properties + (management.map { ["\(SourceSettings.managementKey)=\($0)"] } ?? [])
        try await DemoApp.run(DemoRequest(store: store, broker: broker, properties: properties, rate: rate, seed: seed, duration: duration,
                                          poisonRate: poisonRate, faults: try faultSet(), headless: headless, otlp: otlp, display: display.settings,
                                          recordRetention: try records.policy()))
    }
}
