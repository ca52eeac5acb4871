import Foundation
import Logging
import EventModel
import Simulator
import TerminalUI
import Dashboard
import OTLPReceiver

/// What `evtop demo` was asked for.
public struct DemoRequest: Sendable {
    /// Store file the demo writes (nil: a fresh default demo store).
    public var store: String?
    /// Run on this broker instead (any source that can host the demo).
    public var broker: String?
    /// Client properties (`-X key=value`) for the broker.
    public var properties: [String]
    /// Mean orders per second.
    public var rate: Double
    /// Random seed.
    public var seed: UInt64
    /// Stop after this many seconds (nil: run until quit).
    public var duration: Double?
    /// Fraction of messages that are poison.
    public var poisonRate: Double
    /// Design faults the demo injects (see `DemoFault`).
    public var faults: Set<DemoFault>
    /// Run only the simulator, printing progress.
    public var headless: Bool
    /// The demo's OTLP receiver address, or off.
    public var otlp: String
    /// How the dashboard looks.
    public var display: DisplaySettings
    /// How long and how many records the embedded store keeps (brokers keep their own retention).
    public var recordRetention: RecordRetentionPolicy

    /// Creates a request.
    public init(store: String?, broker: String?, properties: [String], rate: Double, seed: UInt64, duration: Double?,
                poisonRate: Double, faults: Set<DemoFault> = DemoFault.all, headless: Bool, otlp: String,
                display: DisplaySettings, recordRetention: RecordRetentionPolicy = .standard) {
        self.faults = faults
        self.recordRetention = recordRetention
        self.store = store
        self.broker = broker
        self.properties = properties
        self.rate = rate
        self.seed = seed
        self.duration = duration
        self.poisonRate = poisonRate
        self.headless = headless
        self.otlp = otlp
        self.display = display
    }
}

/// `evtop demo`: the simulated order-fulfillment system, with the dashboard on top or headless.
public enum DemoApp {
    /// Runs the demo on the request's broker, store file, or a fresh default store.
    public static func run(_ r: DemoRequest) async throws {
        HeapPolicy.forLongRunning()
        let logger = Logger(label: "evtop.demo")
        // Headless, SIGINT and SIGTERM are taken from the start, before the store is opened: one that comes
        // while it opens or while the topics are set up stops the demo as soon as it runs, never mid-write,
        // and the store is closed cleanly (no -wal content left).
        let signals = r.headless ? SignalWaiter([SIGINT, SIGTERM]) : nil
        let url: SourceURL
        if let broker = r.broker {
            url = try SourceRegistry.parse(broker)
        } else if let store = r.store {
            url = SourceRegistry.embeddedStore(path: Paths.expand(store))
        } else {
            url = SourceRegistry.embeddedStore(path: Paths.demoStore)
            // The default demo store starts fresh each time: simulator state is not persisted.
            for suffix in ["", "-wal", "-shm", ".redrive", ".redrive-wal", ".redrive-shm"] { try? FileManager.default.removeItem(atPath: Paths.demoStore + suffix) }
        }
        // The demo's own groups are named: a cluster that cannot list groups still shows their lag.
        let settings = SourceSettings(readOnly: false, create: true, properties: try SourceSelection.properties(r.properties),
                                      groups: DemoGroups.all)
        let opened = try SourceRegistry.open(url, settings: settings)
        // The attach line names the management API the demo was given, so that it can be pasted as it is.
        let management = settings.properties[SourceSettings.managementKey].map { " --management " + Secrets.url($0) } ?? ""
        let retention = RecordRetentionRunner(opened.recordRetention, policy: r.recordRetention, logger: logger)
        do {
            try await run(r, on: opened, logger: logger, signals: signals,
                          headlessBanner: "writing to \(url.text) — attach with: evtop --broker \(url.text)\(management)")
        } catch {
            await retention.stop()
            await opened.close()
            throw error
        }
        await retention.stop()
        // The store is checkpointed and closed: the demo leaves no -wal content behind.
        await opened.close()
    }

    /// Runs the demo system on `log`, headless or with the dashboard.
    private static func run(_ r: DemoRequest, on opened: OpenedSource, logger: Logger, signals: SignalWaiter?,
                            headlessBanner: String) async throws {
        let demoConfig = DemoConfig(rate: r.rate, seed: r.seed, duration: r.duration, poisonRate: r.poisonRate, faults: r.faults)
        // The source says what it can host: a log with consumer groups, or exchanges and queues.
        let demo: any DemoDriver
        if let log = opened.demo {
            demo = DemoSystem(log: log, config: demoConfig)
        } else if let broker = opened.queueDemo {
            demo = QueueDemoSystem(broker: broker, config: demoConfig)
        } else {
            throw OperatorError("the demo cannot run on \(opened.description): it can neither create topics and commit there nor declare queues and consume them (was it opened read-only?)")
        }
        try await demo.setUp()
        logger.info("demo started on \(opened.description)")
        let traces: DemoTraces
        if let store = opened.spanStore {
            traces = await DemoTraces.start(try OTLPListen.parse(r.otlp), store: store, demo: demo, logger: logger)
        } else {
            traces = DemoTraces(message: "demo spans need a source that keeps spans (the embedded store); none on \(opened.description)", wanted: false)
        }

        if r.headless {
            say("evtop demo: " + headlessBanner)
            say("evtop demo: \(traces.message)")
            let progress = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    let s = await demo.stats
                    say("orders \(s.ordersPlaced)  events \(s.eventsProduced)  dead letters \(s.deadLettered)"
                          + (s.faultsInjected.isEmpty ? "" : "  faults \(s.faultsSummary)")
                          + (traces.exporter.map { "  spans exported \($0.counters.exported)" } ?? ""))
                }
            }
            defer { progress.cancel() }
            // SIGINT and SIGTERM stop the simulator after its step, so that the store is closed cleanly
            // (checkpointed, no -wal content left); a second one ends the process at once.
            let simulator = Task { try await demo.run() }
            let signals = signals ?? SignalWaiter([SIGINT, SIGTERM])
            let stopper = Task.detached {
                let first = await signals.next()
                if Task.isCancelled { return }  // the demo ended on its own
                say("evtop demo: stopping (\(first == SIGINT ? "SIGINT" : "SIGTERM")); again to end at once")
                simulator.cancel()
                let second = await signals.next()
                if Task.isCancelled { return }
                Interrupts.dieBy(second)
            }
            defer { stopper.cancel() }
            do {
                try await simulator.value
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
                // A status-line message lasts seconds, and nothing else says the traffic is over: say it
                // again until the dashboard quits (this task is cancelled then).
                while !Task.isCancelled {
                    mailbox.post(.notify("demo simulator stopped: \(error) — run evtop demo again to restart it", isError: true))
                    try? await Task.sleep(for: .seconds(3))
                }
            }
        }
        defer { simulator.cancel() }
        let config = try? ConfigParser.load(path: Paths.configFile)
        let theme = try r.display.loadTheme(config: config ?? nil)
        var (state, performer) = try SessionSetup.make(opened, resolved: nil, readOnly: false, size: Size(width: 80, height: 24),
                                                       theme: theme.name, mailbox: mailbox)
        if traces.receiver == nil && traces.wanted { Reducer.reduce(&state, .notify(traces.message, isError: true)) }
        // `:ctx` lists the config's contexts and may leave the demo store (the simulator keeps writing to it);
        // the demo's spans have their own receiver, so the sources get none.
        let contexts = ContextCatalog(selection: SourceSelection(), config: config ?? nil, themeOverride: r.display.theme)
        state.viewStates[ContextsState.self] = contexts.state(current: nil)
        do {
            try await DashboardApp.onTerminal(performer: performer, state: state, theme: theme, display: r.display, contexts: contexts,
                                              services: ServiceSettings(refresh: r.display.refreshDuration, otlp: "off", spanLimits: SpanLimits()))
        } catch {
            simulator.cancel()
            await simulator.value
            await traces.stop()
            throw error
        }
        simulator.cancel()
        // Its last write ends before the store closes.
        await simulator.value
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
    static func start(_ listen: OTLPListen, store: any SpanStore, demo: any DemoDriver, logger: Logger) async -> DemoTraces {
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
