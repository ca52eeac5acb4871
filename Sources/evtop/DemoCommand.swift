import Foundation
import ArgumentParser
import Logging
import EventModel
import EmbeddedStore
import Simulator
import TerminalUI
import Dashboard
import KafkaLog
import OTLPReceiver

/// `evtop demo`: the simulated order-fulfillment system on the embedded store, with the dashboard on top.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the demo order system (orders, payments, inventory, shipping) and watch it.",
        discussion: """
        The demo writes to a fresh embedded store ($XDG_DATA_HOME/evtop/demo.db unless --store is given) \
        and opens the dashboard on it. With --headless only the simulator runs, so that another \
        `evtop --broker sqlite:FILE` can attach to the same file.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Store file the demo writes (an existing evtop store is continued).", valueName: "path"))
    var store: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Run the demo on this broker instead: kafka://HOST:PORT[,HOST:PORT] or sqlite:PATH.", valueName: "url"))
    var broker: String?

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

    @Flag(name: .long, help: "Run only the simulator; print progress instead of the dashboard.")
    var headless = false

    @Option(name: .long, help: ArgumentHelp("Where the demo's own OTLP receiver listens; its services export spans to it (off: no spans).", valueName: "host:port|off"))
    var otlp: String = "127.0.0.1:\(OTLPReceiver.defaultPort)"

    @OptionGroup var display: DisplayOptions

    func validate() throws {
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be between 0 and 100000 orders/s") }
        guard (0...1).contains(poisonRate) else { throw ValidationError("--poison-rate must be between 0 and 1") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        _ = try OTLPListen.parse(otlp)
    }

    func run() async throws {
        FileLogHandler.bootstrap()
        let logger = Logger(label: "evtop.demo")
        if let broker, case .kafka(let bootstrap) = try BrokerURL.parse(broker) {
            var props: [String: String] = [:]
            for p in properties {
                guard let eq = p.firstIndex(of: "=") else { throw ValidationError("-X takes key=value, got '\(p)'") }
                props[String(p[..<eq])] = String(p[p.index(after: eq)...])
            }
            // The demo's own groups are named: a cluster that cannot list groups still shows their lag.
            let log = try KafkaLog(settings: KafkaSettings(bootstrap: bootstrap, properties: props, groups: DemoGroups.all))
            let url = "kafka://" + bootstrap.joined(separator: ",")
            return try await run(on: log, url: .kafka(bootstrap: bootstrap), logger: logger, headlessBanner: "writing to \(url) — attach with: evtop --broker \(url)")
        }
        let path: String
        if let broker, case .sqlite(let p) = try BrokerURL.parse(broker) {
            path = p
        } else if let store {
            path = Paths.expand(store)
        } else {
            path = Paths.demoStore
            // The default demo store starts fresh each time: simulator state is not persisted.
            for suffix in ["", "-wal", "-shm", ".redrive", ".redrive-wal", ".redrive-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        try Paths.ensureParent(of: path)
        let log = try SQLiteLog(path: path, mode: .readWrite)
        try await run(on: log, url: .sqlite(path: path), logger: logger, headlessBanner: "writing to \(path) — attach with: evtop --broker sqlite:\(path)")
    }

    /// Runs the demo system on `log`, headless or with the dashboard.
    private func run(on log: any BrokerLog, url: BrokerURL, logger: Logger, headlessBanner: String) async throws {
        let demo = DemoSystem(log: log, config: DemoConfig(rate: rate, seed: seed, duration: duration, poisonRate: poisonRate))
        try await demo.setUp()
        logger.info("demo started on \(log.sourceDescription)")
        let traces: DemoTraces
        if let store = log as? SQLiteLog {
            traces = await DemoTraces.start(try OTLPListen.parse(otlp), store: store, demo: demo, logger: logger)
        } else {
            traces = DemoTraces(message: "demo spans need the embedded store (spans are kept there); none on \(log.sourceDescription)", wanted: false)
        }

        if headless {
            print("evtop demo: " + headlessBanner)
            print("evtop demo: \(traces.message)")
            let progress = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    let s = await demo.stats
                    print("orders \(s.ordersPlaced)  events \(s.eventsProduced)  dead letters \(s.deadLettered)"
                          + (traces.exporter.map { "  spans exported \($0.counters.exported)" } ?? ""))
                }
            }
            defer { progress.cancel() }
            do {
                try await demo.run()
            } catch {
                await traces.stop()
                throw error
            }
            await traces.stop()
            return
        }

        // The simulator's failures reach the status line, not just the log.
        let mailbox = ActionMailbox()
        let simulator = Task.detached {
            do { try await demo.run() } catch is CancellationError {} catch {
                logger.error("demo stopped: \(error)")
                mailbox.post(.notify("demo simulator stopped: \(error)", isError: true))
            }
        }
        defer { simulator.cancel() }
        let config = try? ConfigParser.load(path: Paths.configFile)
        let theme = try display.loadTheme(config: config ?? nil)
        var state = AppState.initial(source: log.sourceDescription, context: nil, size: Size(width: 80, height: 24),
                                     readOnly: false, theme: theme.name)
        if traces.receiver == nil && traces.wanted { Reducer.reduce(&state, .notify(traces.message, isError: true)) }
        let assembler = try SagaSetup.assembler(context: nil, configPath: nil)
        let sagas = PendingSagaLoader {
            SagaLoader.make(log: log, url: url, readOnly: false, assembler: assembler, traces: log as? any TraceStore,
                            clusterID: await SourceFiles.clusterID(of: log))
        }
        do {
            try await DashboardRunner.run(log: log, state: state, theme: theme,
                                          refresh: .milliseconds(Int(display.refresh * 1000)), noColor: display.noColor,
                                          journal: JournalLocator(url: url, log: log), mailbox: mailbox, sagas: sagas)
        } catch {
            simulator.cancel()
            await traces.stop()
            throw error
        }
        simulator.cancel()
        await traces.stop()
    }
}

/// The demo's trace path: its own OTLP receiver into the demo store, and an exporter the simulated services
/// send their spans through, over real HTTP.
struct DemoTraces: Sendable {
    var receiver: OTLPReceiver?
    var exporter: OTLPExporter?
    var flusher: Task<Void, Never>?
    var message: String
    var wanted: Bool

    /// Starts the receiver (an ephemeral port when the asked one is busy) and wires the simulator to an exporter.
    static func start(_ listen: OTLPListen, store: SQLiteLog, demo: DemoSystem, logger: Logger) async -> DemoTraces {
        guard case .on(let host, _) = listen else {
            return DemoTraces(message: "demo spans off (--otlp off)", wanted: false)
        }
        let warn: @Sendable (String) -> Void = { logger.warning("\($0)") }
        var (receiver, message) = await startOTLPReceiver(listen, store: store, log: warn)
        if receiver == nil {
            let first = message
            (receiver, message) = await startOTLPReceiver(.on(host: host, port: 0), store: store, log: warn)
            if receiver != nil { message = "port busy, demo traces on an ephemeral port — " + message }
            logger.warning("\(first)")
        }
        guard let receiver, let port = receiver.boundPort,
              let url = OTLPExporter.endpoint(host: host, port: port) else {
            return DemoTraces(message: message, wanted: true)
        }
        let exporter = OTLPExporter(endpoint: url, batchSize: 512)
        await demo.setSpanSink { spans in exporter.enqueue(spans) }
        // As an SDK's batch processor: a partial batch goes out after at most a second.
        let flusher = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await exporter.flush()
                if let error = exporter.counters.lastError { logger.warning("\(error)") }
            }
        }
        logger.info("\(message)")
        return DemoTraces(receiver: receiver, exporter: exporter, flusher: flusher, message: message, wanted: true)
    }

    /// Sends what is queued, then stops the receiver.
    func stop() async {
        flusher?.cancel()
        await exporter?.flush()
        await receiver?.stop()
    }
}
