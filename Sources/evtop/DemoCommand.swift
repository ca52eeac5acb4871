import Foundation
import ArgumentParser
import Logging
import EventModel
import EmbeddedStore
import Simulator
import TerminalUI
import Dashboard

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

    @OptionGroup var display: DisplayOptions

    func validate() throws {
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be between 0 and 100000 orders/s") }
        guard (0...1).contains(poisonRate) else { throw ValidationError("--poison-rate must be between 0 and 1") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
    }

    func run() async throws {
        FileLogHandler.bootstrap()
        let logger = Logger(label: "evtop.demo")
        let path: String
        if let store {
            path = Paths.expand(store)
        } else {
            path = Paths.demoStore
            // The default demo store starts fresh each time: simulator state is not persisted.
            for suffix in ["", "-wal", "-shm", ".redrive", ".redrive-wal", ".redrive-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        try Paths.ensureParent(of: path)
        let log = try SQLiteLog(path: path, mode: .readWrite)
        let demo = DemoSystem(log: log, config: DemoConfig(rate: rate, seed: seed, duration: duration, poisonRate: poisonRate))
        try await demo.setUp()
        logger.info("demo started on \(path)")

        if headless {
            print("evtop demo: writing to \(path) — attach with: evtop --broker sqlite:\(path)")
            let progress = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    let s = await demo.stats
                    print("orders \(s.ordersPlaced)  events \(s.eventsProduced)  dead letters \(s.deadLettered)")
                }
            }
            defer { progress.cancel() }
            try await demo.run()
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
        let state = AppState.initial(source: log.sourceDescription, context: nil, size: Size(width: 80, height: 24),
                                     readOnly: false, theme: theme.name)
        let assembler = try SagaSetup.assembler(context: nil, configPath: nil)
        let sagas = SagaLoader.make(log: log, url: .sqlite(path: path), readOnly: false, assembler: assembler)
        try await DashboardRunner.run(log: log, state: state, theme: theme,
                                      refresh: .milliseconds(Int(display.refresh * 1000)), noColor: display.noColor,
                                      journalPath: JournalLocation.path(for: .sqlite(path: path)), mailbox: mailbox,
                                      sagas: sagas)
    }
}
