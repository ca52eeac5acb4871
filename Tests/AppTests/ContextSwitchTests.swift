import XCTest
import Foundation
import EventModel
import EmbeddedStore
import TerminalUI
import Dashboard
@testable import App

/// A second real store with nothing in common with the demo's: a ledger topic, its DLT and one group.
enum LedgerStore {
    static let topics = ["ledger.entries", "ledger.entries.DLT"]
    static let group = "ledger-writer"

    static func make(at path: String) async throws -> String {
        let log = try SQLiteLog(path: path)
        try await log.createTopic("ledger.entries", partitions: 2)
        try await log.createTopic("ledger.entries.DLT", partitions: 1)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var records: [OutgoingRecord] = []
        for i in 0..<40 {
            records.append(OutgoingRecord(topic: "ledger.entries", partition: Int32(i % 2), timestampMillis: now - Int64(40 - i) * 100,
                                          key: Array("acct-\(i % 5)".utf8), value: Array(#"{"type":"EntryPosted","n":\#(i)}"#.utf8)))
        }
        records.append(OutgoingRecord(topic: "ledger.entries.DLT", partition: 0, timestampMillis: now,
                                      headers: [RecordHeader(name: "kafka_dlt-original-topic", value: Array("ledger.entries".utf8))],
                                      value: Array(#"{"type":"EntryPosted","n":-1}"#.utf8)))
        try await log.produce(records)
        try await log.commit(group: group, member: "writer-1", offsets: [TopicPartition("ledger.entries", 0): 15, TopicPartition("ledger.entries", 1): 20])
        return path
    }
}

/// `:ctx` on whole sessions driven by keys: two real stores and an unreachable Kafka cluster, switched
/// between without restarting.
@UIActor
final class ContextSwitchTests: XCTestCase {
    var dir: URL!
    var savedState: String?

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-ctx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        savedState = ProcessInfo.processInfo.environment["XDG_STATE_HOME"]
        setenv("XDG_STATE_HOME", dir.appendingPathComponent("state").path, 1)
    }

    override func tearDown() async throws {
        if let savedState { setenv("XDG_STATE_HOME", savedState, 1) } else { unsetenv("XDG_STATE_HOME") }
        try? FileManager.default.removeItem(at: dir)
    }

    /// The demo store (`shop`, the default), the ledger store (`ledger`, with a theme of its own), a Kafka
    /// cluster nobody listens for (`down`) and a RabbitMQ broker with a password in its URL (`rabbit`).
    private func config() async throws -> String {
        let shopDir = dir.appendingPathComponent("shop")
        try FileManager.default.createDirectory(at: shopDir, withIntermediateDirectories: true)
        let shop = try await DemoStore.make(in: shopDir, seconds: 10)
        let ledger = try await LedgerStore.make(at: dir.appendingPathComponent("ledger.db").path)
        let path = dir.appendingPathComponent("config.yaml").path
        try """
            default-context: shop
            contexts:
              shop:
                broker: sqlite:\(shop)
              ledger:
                broker: sqlite:\(ledger)
                theme: light
                dlq-patterns: ["*.DLT"]
              down:
                broker: kafka://127.0.0.1:1
              rabbit:
                broker: amqp://guest:s3cretpw@127.0.0.1:5999/
              gone:
                broker: sqlite:\(dir.appendingPathComponent("gone.db").path)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func session(config: String, readOnly: Bool = false) async throws -> DashboardSession<TestBackend> {
        let session = try await DashboardApp.session(on: TestBackend(width: 100, height: 30),
                                                     source: SourceSelection(config: config, readOnly: readOnly))
        await session.refresh()
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "the first loads came back")
        return session
    }

    private func press(_ session: DashboardSession<TestBackend>, _ keys: Key...) async {
        session.backend.enqueue(keys: keys)
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "every load the keys started came back")
    }

    private func command(_ session: DashboardSession<TestBackend>, _ line: String) async {
        session.backend.enqueue(keys: [.char(":")] + line.map { Key.char($0) } + [.enter])
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "every load :\(line) started came back")
    }

    private func screen(_ session: DashboardSession<TestBackend>) -> String { session.backend.buffer.plainText }

    private func header(_ session: DashboardSession<TestBackend>) -> String {
        String(screen(session).split(separator: "\n").first ?? "")
    }

    func testSwitchingBetweenTwoStoresLeavesNothingOfTheFirst() async throws {
        let session = try await session(config: try await config())
        XCTAssertTrue(header(session).contains("shop · sqlite:"), header(session))
        XCTAssertTrue(screen(session).contains("orders"), screen(session))
        // Everything the first store showed by name: its topics and its groups.
        let snapshot = try XCTUnwrap(session.state.snapshot)
        let shopNames = snapshot.topics.map(\.name) + snapshot.groups.map(\.id)
        XCTAssertTrue(shopNames.contains("orders") && shopNames.contains { $0.hasSuffix(".DLT") }, "\(shopNames)")
        // The lag and dead-letter views have loaded what they show.
        await press(session, .char("2"))
        await press(session, .char("4"))
        XCTAssertFalse(session.state.deadLetterRows.isEmpty || session.state.groupLags.isEmpty)

        await command(session, "ctx")
        XCTAssertEqual(session.state.view, ContextsModel.view)
        let list = screen(session)
        for expected in ["● shop", "ledger", "down", "kafka://127.0.0.1:1", "Kafka", "RabbitMQ", "amqp://***@127.0.0.1:5999/", "1 DLQ pattern"] {
            XCTAssertTrue(list.contains(expected), "\(expected) missing:\n\(list)")
        }
        XCTAssertFalse(list.contains("s3cretpw"), "a password in a broker URL never shows:\n\(list)")

        // The background work runs as in the real dashboard, so that a poll of the old store cannot come back late.
        await session.startServices(ServiceSettings(refresh: .milliseconds(100), otlp: "off", spanLimits: SpanLimits()))
        await press(session, .char("j"), .enter)
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "ledger")
        XCTAssertEqual(session.state.view, .topics)
        XCTAssertEqual(session.state.themeName, "light", "the context's theme comes with it")
        let note = session.state.message?.text ?? ""
        XCTAssertTrue(note.hasPrefix("context ledger: sqlite:") && note.hasSuffix("ledger.db · theme light"), note)
        XCTAssertTrue(header(session).contains("ledger · sqlite:"), header(session))
        XCTAssertTrue(header(session).contains("ledger.db"), header(session))
        // Polled a few times by the new source's poller: every figure is the ledger's.
        let deadline = ContinuousClock.now + .seconds(20)
        while session.state.snapshot == nil || session.state.meter.history(topic: "ledger.entries").count < 2, ContinuousClock.now < deadline {
            session.step(waitMillis: 20)
            try await Task.sleep(for: .milliseconds(50))
        }
        await session.settle()
        XCTAssertEqual(session.state.snapshot?.topics.map(\.name).sorted(), LedgerStore.topics)
        XCTAssertEqual(session.state.snapshot?.groups.map(\.id), [LedgerStore.group])
        XCTAssertTrue(screen(session).contains("ledger.entries"), screen(session))
        for name in shopNames {
            XCTAssertTrue(session.state.meter.history(topic: name).isEmpty, "no rate history of \(name)")
            XCTAssertNil(session.state.deadLetters[name], "no letters of \(name)")
        }
        XCTAssertFalse(session.state.groupLags.contains { shopNames.contains($0.id) }, "\(session.state.groupLags.map(\.id))")
        // No view shows a name of the first store.
        for key in ["1", "2", "3", "4"] {
            await press(session, .char(Character(key)))
            let text = screen(session)
            for name in shopNames { XCTAssertFalse(text.contains(name), "view \(key) still shows \(name):\n\(text)") }
            XCTAssertFalse(text.contains("ord-"), "view \(key) still shows a saga of the first store:\n\(text)")
        }
        await press(session, .char("2"))
        XCTAssertTrue(screen(session).contains(LedgerStore.group), screen(session))
        await session.stopServices()
    }

    func testAnUnknownNameListsTheContextsAndAnUnreachableClusterShowsDown() async throws {
        let session = try await session(config: try await config())
        await command(session, "ctx nope")
        XCTAssertTrue(screen(session).contains("no context named 'nope' (contexts: shop, ledger, down, rabbit, gone)"), screen(session))
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "shop")

        // A context that cannot be opened (its store is not there) leaves the session where it was.
        await command(session, "ctx gone")
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "shop")
        XCTAssertEqual(session.state.message?.level, .error)
        XCTAssertTrue(screen(session).contains("cannot switch to context gone: no evtop store at"), screen(session))
        XCTAssertTrue(screen(session).contains("orders"), screen(session))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gone.db").path), "no store is made by switching")

        await command(session, "ctx down")
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "down")
        XCTAssertNil(session.state.snapshot, "nothing of the store is kept")
        XCTAssertTrue(header(session).contains("down · kafka://127.0.0.1:1"), header(session))
        await session.refresh()
        await session.settle()
        guard case .down = session.state.connection else { return XCTFail("an unreachable cluster is down: \(session.state.connection)") }
        for key in ["1", "2"] {
            await press(session, .char(Character(key)))
            let text = screen(session)
            XCTAssertTrue(text.contains("✗ down"), text)
            XCTAssertTrue(text.contains("no data: the source is down"), text)
            XCTAssertFalse(text.contains("OK"), "no figure, no OK:\n\(text)")
            XCTAssertFalse(text.contains("orders"), text)
        }

        // And back: the store again, its figures fresh.
        await command(session, "ctx shop")
        await session.refresh()
        await session.settle()
        XCTAssertEqual(session.state.connection, .live)
        XCTAssertTrue(screen(session).contains("orders"), screen(session))
        XCTAssertTrue(header(session).contains("shop · sqlite:"), header(session))
    }

    func testReadOnlyStaysInForceAcrossSwitches() async throws {
        let session = try await session(config: try await config(), readOnly: true)
        XCTAssertNil(session.performer.source.writable)
        await command(session, "ctx ledger")
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "ledger")
        XCTAssertTrue(session.state.readOnly)
        XCTAssertNil(session.performer.source.writable, "the new source is opened read-only too")
        await session.refresh()
        await session.settle()
        XCTAssertTrue(header(session).contains("READ-ONLY"), header(session))
    }

    /// A requeue job is never torn by a switch, also one that runs without its dialog (resumed at start).
    func testASwitchWaitsForNoJobAndTearsNone() async throws {
        let session = try await session(config: try await config())
        await press(session, .char("4"), .enter)
        guard case .deadLetterList(let dlq) = session.state.view else { return XCTFail("enter opens the letters: \(session.state.view)") }
        XCTAssertGreaterThan(session.state.deadLetters[dlq]?.count ?? 0, 2, "a few letters to move at 1/s")
        // Every letter shown, at 1 message a second: the job runs for seconds.
        session.backend.enqueue(keys: [.char("R"), .char("-"), .char("-"), .char("-"), .enter])
        session.step(waitMillis: 0)
        XCTAssertEqual(session.state.redrive?.rate, 1)
        XCTAssertEqual(session.state.redrive?.isRunning, true, String(describing: session.state.redrive?.phase))
        session.state.redrive = nil
        session.requestSwitch(to: "ledger")
        await session.applyPendingSwitch()
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "shop", "refused while the job runs")
        XCTAssertTrue(session.state.message?.text.hasPrefix("a requeue is running") == true, String(describing: session.state.message))
        XCTAssertNotNil(session.performer.source.writable)
        // Cancelled, it stops after its batch; then the switch goes ahead.
        session.performer.redrive.cancel()
        await session.settle()
        session.requestSwitch(to: "ledger")
        await session.applyPendingSwitch()
        XCTAssertEqual(session.state.viewStates[ContextsState.self].current, "ledger")
    }

    func testAContextsThemeComesWithItUnlessTheCommandLineNamesOne() throws {
        let config = try ConfigParser.parse("""
            theme: light
            contexts:
              a: { broker: "sqlite:/tmp/a.db", theme: high-contrast }
              b: { broker: "sqlite:/tmp/b.db" }
            """, file: "config.yaml")
        let (a, b) = (config.contexts[0], config.contexts[1])
        XCTAssertEqual(config.contexts.map(\.theme), ["high-contrast", nil])
        let display = DisplaySettings(theme: nil, refresh: 1, noColor: false)
        XCTAssertEqual(try display.loadTheme(config: config, context: a).name, "high-contrast")
        XCTAssertEqual(try display.loadTheme(config: config, context: b).name, "light")
        XCTAssertEqual(try DisplaySettings(theme: "monochrome", refresh: 1, noColor: false).loadTheme(config: config, context: a).name, "monochrome")
        let catalog = ContextCatalog(selection: SourceSelection(), config: config, themeOverride: nil)
        XCTAssertEqual(catalog.theme(switchingFrom: b, to: a), "high-contrast")
        XCTAssertEqual(catalog.theme(switchingFrom: a, to: b), "light", "back to the file's theme")
        XCTAssertNil(catalog.theme(switchingFrom: nil, to: b), "a switch between contexts without themes keeps the one showing")
        XCTAssertNil(ContextCatalog(selection: SourceSelection(), config: config, themeOverride: "monochrome").theme(switchingFrom: b, to: a))
    }

    func testContextEntriesHideSecretsAndSayWhatIsWrong() {
        var rabbit = ContextConfig(name: "rabbit")
        rabbit.broker = "amqp://guest:s3cretpw@mq:5672/orders"
        rabbit.properties = ["management": "http://admin:adminpw@mq:15672"]
        let entry = ContextCatalog.entry(rabbit)
        XCTAssertEqual(entry.broker, "amqp://***@mq:5672/orders")
        XCTAssertEqual(entry.kind, "RabbitMQ")
        XCTAssertEqual(entry.settings, "management API")
        XCTAssertEqual(entry.details, [ContextDetail("management", "http://***@mq:15672")])
        XCTAssertFalse("\(entry)".contains("pw"), "\(entry)")
        var kafka = ContextConfig(name: "prod")
        kafka.broker = "kafka://k1:9092"
        kafka.properties = ["sasl.password": "hunter2hunter2", "sasl.username": "evtop", "sasl.mechanism": "PLAIN"]
        let prod = ContextCatalog.entry(kafka)
        XCTAssertEqual(prod.settings, "3 properties")
        XCTAssertEqual(prod.details, [ContextDetail("properties", "sasl.mechanism, sasl.password, sasl.username")], "names, never values")

        var typo = ContextConfig(name: "typo")
        typo.broker = "kafka:/prod-1:9092"
        let bad = ContextCatalog.entry(typo)
        XCTAssertEqual(bad.kind, "bad URL")
        XCTAssertNotNil(bad.problem)

        var local = ContextConfig(name: "local")
        local.deadLetterPatterns = ["*.DLT"]
        local.sagaFiles = ["a.yaml", "b.yaml"]
        local.theme = "light"
        let plain = ContextCatalog.entry(local)
        XCTAssertEqual(plain.broker, "the default store")
        XCTAssertEqual(plain.kind, "embedded store")
        XCTAssertEqual(plain.settings, "1 DLQ pattern · 2 saga files · theme light")
        XCTAssertEqual(plain.details.map(\.label), ["DLQ patterns", "saga definitions", "theme"])
        XCTAssertEqual(plain.details.map(\.value), ["*.DLT", "a.yaml, b.yaml", "light"])
    }
}
