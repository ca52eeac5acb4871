import XCTest
import Foundation
import EventModel
import EmbeddedStore
import TerminalUI
@testable import Dashboard
@testable import App

/// Config, themes and saga definitions: files an operator writes, errors that name file and line.
final class ConfigAndThemeTests: XCTestCase {
    var dir: URL!

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-config-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
    }

    func testContextsAndTheDefault() throws {
        let config = try ConfigParser.parse("""
        default-context: staging
        theme: light
        contexts:
          staging:
            broker: kafka://stage:9092
            dlq-patterns: ["*.dead"]
          local:
            broker: sqlite:~/x.db
        """, file: "c.yaml")
        XCTAssertEqual(config.theme, "light")
        XCTAssertEqual(try config.context(named: nil)?.name, "staging")
        XCTAssertEqual(try config.context(named: "local")?.broker, "sqlite:~/x.db")
        XCTAssertEqual(try config.context(named: nil)?.deadLetterPatterns, ["*.dead"])
        XCTAssertThrowsError(try config.context(named: "prod")) {
            XCTAssertTrue(String(describing: $0).contains("no context named 'prod' (known: staging, local)"), "\($0)")
        }
    }

    func testMistakesNameFileAndLine() {
        func problem(_ text: String) -> String {
            do { _ = try ConfigParser.parse(text, file: "c.yaml"); return "accepted" } catch { return String(describing: error) }
        }
        XCTAssertEqual(problem("contexts:\n  a:\n    brokr: x\n").prefix(9), "c.yaml:3:")
        XCTAssertTrue(problem("default-context: nope\ncontexts:\n  a: {broker: x}\n").contains("'nope' is not among the contexts"))
        XCTAssertTrue(problem("contexts: [1, 2]").contains("'contexts' must map context names"))
        XCTAssertTrue(problem("a: [").hasPrefix("c.yaml:"), problem("a: ["))
    }

    func testInsightsSettingsPerContextAndTheirMistakesWithTheLine() throws {
        let config = try ConfigParser.parse("""
        contexts:
          prod:
            broker: kafka://prod:9092
            insights:
              fat-event-bytes: 250000
              failing-saga-share: 0.3
              disable: [command-named]
              suppress:
                - rule: fat-events
                  topic: "media.*"
                - topic: legacy-*
          dev:
            broker: sqlite:x.db
        """, file: "c.yaml")
        let prod = try XCTUnwrap(try config.context(named: "prod")?.insights)
        XCTAssertEqual(prod.fatEventBytes, 250_000)
        XCTAssertEqual(prod.failingSagaShare, 0.3)
        XCTAssertEqual(prod.disabled, [.commandNamed])
        XCTAssertEqual(prod.suppressions, [InsightSuppression(rule: .fatEvents, pattern: "media.*"), InsightSuppression(rule: nil, pattern: "legacy-*")])
        XCTAssertTrue(prod.suppresses(.fatEvents, topic: "media.images", subject: "media.images"))
        XCTAssertFalse(prod.suppresses(.fatEvents, topic: "orders", subject: "orders"))
        XCTAssertNil(try config.context(named: "dev")?.insights, "no section: the defaults")

        func problem(_ insights: String) -> String {
            do { _ = try ConfigParser.parse("contexts:\n  a:\n    insights:\n" + insights, file: "c.yaml"); return "accepted" } catch { return String(describing: error) }
        }
        XCTAssertEqual(problem("      disable: [fat-event]\n"), "c.yaml:4: unknown insights rule 'fat-event' (rules: \(InsightRule.allCases.map(\.rawValue).joined(separator: ", ")))")
        XCTAssertEqual(problem("      fat-event-bytes: lots\n"), "c.yaml:4: 'fat-event-bytes' must be a number from 1 to 1000000000000, not 'lots'")
        XCTAssertEqual(problem("      failing-saga-share: 2\n"), "c.yaml:4: 'failing-saga-share' must be a number from 0 to 1, not '2'")
        XCTAssertTrue(problem("      suppress:\n        - {}\n").hasPrefix("c.yaml:5: a suppression needs a rule, a topic, or both"), problem("      suppress:\n        - {}\n"))
        XCTAssertTrue(problem("      fat-bytes: 1\n").hasPrefix("c.yaml:4: unknown key 'fat-bytes' in insights"))
    }

    func testThemesByNameOrPathAndAClearErrorOtherwise() throws {
        let file = dir.appendingPathComponent("mine.yaml").path
        let text = try String(contentsOfFile: FileManager.default.currentDirectoryPath + "/themes/monochrome.yaml", encoding: .utf8)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ThemeCatalog.load(file).name, "mine")
        XCTAssertEqual(try ThemeCatalog.load("light").name, "light")
        XCTAssertThrowsError(try ThemeCatalog.load("no-such-theme")) {
            XCTAssertTrue(String(describing: $0).contains("no theme named 'no-such-theme' (available:"), "\($0)")
        }
        XCTAssertThrowsError(try ThemeCatalog.load(dir.appendingPathComponent("missing.yaml").path)) {
            XCTAssertTrue(String(describing: $0).contains("cannot read theme file"), "\($0)")
        }
    }

    /// Issue 14 item 11: `evtop snapshot --theme` renders in that theme, as the dashboard does, and an
    /// unknown theme fails the same way.
    @UIActor
    func testSnapshotTakesATheme() async throws {
        let path = dir.appendingPathComponent("snap.db").path
        let store = try SQLiteLog(path: path)
        try await store.createTopic("orders", partitions: 1)
        let source = SourceSelection(broker: "sqlite:" + path)
        let light = try ThemeCatalog.load("light")
        let screen = try await SnapshotReport.screen(source: source, view: "topics", width: 80, height: 24, interval: 0, theme: "light")
        let fallback = try await SnapshotReport.screen(source: source, view: "topics", width: 80, height: 24, interval: 0, theme: nil)
        var inLight = 0
        var differ = 0
        for y in 0..<screen.height {
            for x in 0..<screen.width {
                let style = screen[x, y].style
                guard let role = style.roles.members.first, style.roles.members.count == 1 else { continue }
                XCTAssertEqual(style, light.style(role), "cell \(x),\(y) (\(role)) not in the light theme")
                inLight += 1
                if fallback[x, y].style.roles == style.roles, fallback[x, y].style != style { differ += 1 }
            }
        }
        XCTAssertGreaterThan(inLight, 0)
        XCTAssertGreaterThan(differ, 0, "the light theme draws differently from the default")
        do {
            _ = try await SnapshotReport.render(source: source, view: "topics", width: 80, height: 24, interval: 0, theme: "no-such-theme")
            XCTFail("an unknown theme is an error")
        } catch {
            XCTAssertTrue(String(describing: error).contains("no theme named 'no-such-theme'"), "\(error)")
        }
    }

    func testSagaDefinitionsFromAContextReplaceTheBuiltInOfTheSameName() throws {
        XCTAssertEqual(SagaDefinitionLoader.builtIn.map(\.name), ["OrderSaga"])
        let sagas = dir.appendingPathComponent("sagas.yaml").path
        try """
        sagas:
          - name: OrderSaga
            timeout: 90s
            steps:
              - name: only
                completedBy: [Done]
          - name: RefundSaga
            steps:
              - name: refund
                completedBy: [Refunded]
        """.write(toFile: sagas, atomically: true, encoding: .utf8)
        let config = try ConfigParser.parse("contexts:\n  c:\n    sagas: [sagas.yaml]\n", file: dir.appendingPathComponent("config.yaml").path)
        let assembler = try SagaSetup.assembler(context: config.contexts.first, configPath: dir.appendingPathComponent("config.yaml").path)
        XCTAssertEqual(assembler.definitions.map(\.name).sorted(), ["OrderSaga", "RefundSaga"])
        XCTAssertEqual(assembler.definitions.first { $0.name == "OrderSaga" }?.steps.count, 1, "the context's OrderSaga wins")

        try "sagas:\n  - name: Broken\n    steps: nope\n".write(toFile: sagas, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SagaSetup.assembler(context: config.contexts.first, configPath: dir.appendingPathComponent("config.yaml").path)) {
            XCTAssertTrue(String(describing: $0).contains("sagas.yaml"), "\($0)")
        }
    }

    func testScriptOutputsKeepUnknownFiguresOutOfTheTable() throws {
        let row = TopicRow(name: "orders\u{1B}[31m", isDeadLetter: false, partitions: 3, total: 1_234,
                           rates: ThroughputMeter.Rates(perSecond1: nil, perSecond10: 2.5, perSecond60: nil), groups: 2)
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        func snapshot(_ at: Double, _ topics: [(String, Int64)]) -> BrokerSnapshot {
            BrokerSnapshot(time: start.addingTimeInterval(at), topics: topics.map {
                TopicInfo(name: $0.0, partitions: [PartitionWatermarks(partition: 0, low: 0, high: $0.1)])
            }, groups: [])
        }
        // Two samples 4 s apart: one rate, named by that window; a topic new in the second has none.
        let window = TopicsOutput.Window(first: snapshot(0, [("orders\u{1B}[31m", 1_000)]),
                                         second: snapshot(4, [("orders\u{1B}[31m", 1_234), ("fresh", 10)]))
        let fresh = TopicRow(name: "fresh", isDeadLetter: false, partitions: 1, total: 10, rates: ThroughputMeter.Rates(), groups: 0)
        let table = TopicsOutput.table([row, fresh], window: window)
        XCTAssertFalse(table.contains("\u{1B}"), "escape sequences never reach the terminal raw")
        XCTAssertTrue(table.contains("1,234"), table)
        XCTAssertTrue(table.contains("4s/s"), "the rate column names its window: \(table)")
        XCTAssertFalse(table.contains("10s/s") || table.contains("60s/s"), "no window that was not measured: \(table)")
        XCTAssertTrue(table.contains("  59  "), "234 records in 4 s: \(table)")
        XCTAssertTrue(table.split(separator: "\n").last?.contains(" - ") == true, "a rate not measured is '-', not 0: \(table)")
        let json = try TopicsOutput.json([row, fresh], window: window)
        XCTAssertTrue(json.contains("\"ratePerSecond\" : 58.5"), json)
        XCTAssertTrue(json.contains("\"rateWindowSeconds\" : 4"), json)
        XCTAssertFalse(json.contains("rate10s") || json.contains("rate60s") || json.contains("rate1s"), json)
        let noRates = TopicsOutput.table([row], window: nil)
        XCTAssertFalse(noRates.contains("s/s"), "--interval 0 prints no rate at all: \(noRates)")
    }
}

/// The shipped themes are compiled into the binary (issue 14 item 11) and agree with `themes/`.
final class BuiltInThemesTests: XCTestCase {
    func testGeneratedThemesMatchTheThemesFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertEqual(Set(files.map { String($0.dropLast(5)) }), Set(BuiltInThemes.yaml.keys),
                       "run scripts/gen-themes after adding or removing a theme")
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let name = String(file.dropLast(5))
            XCTAssertEqual(BuiltInThemes.yaml[name].map { $0 + "\n" }, text, "\(file) changed: run scripts/gen-themes")
            XCTAssertNoThrow(try ThemeLoader.parse(yaml: BuiltInThemes.yaml[name] ?? "", name: name))
        }
    }

    /// No folder is searched but the user's: the built-in themes answer.
    func testThemesLoadWithoutAnyThemesFolder() throws {
        XCTAssertFalse(ThemeCatalog.searchDirectories.contains { $0.hasSuffix("/../../themes") || $0.hasSuffix("/share/evtop/themes") })
        for name in BuiltInThemes.yaml.keys { XCTAssertEqual(try ThemeCatalog.load(name).name, name) }
        XCTAssertTrue(Set(ThemeCatalog.available()).isSuperset(of: ["default", "light", "high-contrast", "monochrome"]))
    }
}
