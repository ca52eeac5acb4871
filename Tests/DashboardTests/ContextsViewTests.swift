import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// `:ctx`: the config's contexts, the one in use marked; `enter` and `:ctx NAME` ask the run loop to switch.
final class ContextsViewTests: XCTestCase {
    /// Four contexts as the app lists them (brokers already without secrets), `local` in use.
    static func contexts(current: String? = "local") -> ContextsState {
        ContextsState(entries: [
            ContextEntry(name: "local", broker: "sqlite:~/.local/share/evtop/demo.db", kind: "embedded store", settings: "5 DLQ patterns",
                         details: [ContextDetail("DLQ patterns", "*.DLT, *.DLQ, *-dlt, dlq.*, *.dead-letter")]),
            ContextEntry(name: "prod", broker: "kafka://prod-1:9092,prod-2:9092", kind: "Kafka",
                         settings: "2 properties · correlation rules · 1 saga file · 2 groups",
                         details: [ContextDetail("properties", "sasl.mechanism, security.protocol"),
                                   ContextDetail("correlation headers", "correlation-id, x-correlation-id"),
                                   ContextDetail("saga definitions", "sagas/order.yaml"),
                                   ContextDetail("groups", "order-service, payment-service")]),
            ContextEntry(name: "rabbit", broker: "amqp://***@mq.internal:5672/orders", kind: "RabbitMQ", settings: "theme light"),
            ContextEntry(name: "typo", broker: "kafka:/prod-1", kind: "bad URL", problem: "use kafka://HOST:PORT[,HOST:PORT]"),
        ], configFile: "~/.config/evtop/config.yaml", configExists: true, current: current)
    }

    /// A live state with the contexts, showing `:ctx`.
    static func state(width: Int = 80, height: Int = 24, contexts: ContextsState = contexts()) -> AppState {
        var state = Fixtures.liveState(width: width, height: height)
        state.viewStates[ContextsState.self] = contexts
        XCTAssertEqual(Reducer.runCommand(&state, "ctx"), [])
        state.message = nil
        return state
    }

    private func text(_ state: AppState) -> String { Screen.render(state, theme: .fallback).plainText }

    func testCtxListsEveryContextAndMarksTheOneInUse() {
        let state = Self.state()
        XCTAssertEqual(state.view, ContextsModel.view)
        let screen = text(state)
        for expected in ["Contexts · on local", "● local", "prod", "Kafka", "kafka://prod-1:9092,prod-2:9092", "RabbitMQ",
                         "amqp://***@mq.internal:5672/orders", "embedded store", "bad URL", " 1/4 "] {
            XCTAssertTrue(screen.contains(expected), "\(expected) missing:\n\(screen)")
        }
        XCTAssertFalse(screen.contains("● prod"), "one context is marked")
        // The header names the context before its source.
        XCTAssertTrue(screen.split(separator: "\n")[0].contains("local · sqlite"), screen)
        XCTAssertEqual(StatusBar.keyHints(state).map(\.0), ["esc", "enter", "/", "?", "q"])
        XCTAssertEqual(StatusBar.keyHints(state).first { $0.0 == "enter" }?.1, "switch")
        assertGolden(Screen.render(state, theme: .fallback), "ctx-80x24")
        assertGolden(Screen.render(Self.state(width: 120, height: 40), theme: .fallback), "ctx-120x40")
    }

    func testTheHighlightedContextsSettingsShowInFullBelowTheTable() {
        var state = Self.state()
        XCTAssertTrue(text(state).contains("local (in use) · embedded store · sqlite:~/.local/share/evtop/demo.db"), text(state))
        Reducer.reduce(&state, .key(.char("j")))
        let screen = text(state)
        for expected in ["prod · Kafka · kafka://prod-1:9092,prod-2:9092", "properties           sasl.mechanism, security.protocol",
                         "correlation headers  correlation-id, x-correlation-id", "groups               order-service, payment-service"] {
            XCTAssertTrue(screen.contains(expected), "\(expected) missing:\n\(screen)")
        }
        Reducer.reduce(&state, .key(.char("G")))
        XCTAssertTrue(text(state).contains("problem  use kafka://HOST:PORT[,HOST:PORT]"), text(state))
        // A long list wraps between its items, never cut at the border.
        var long = Self.contexts()
        long.entries[1].details = [ContextDetail("properties", (1...12).map { String(format: "client.prop-%02d", $0) }.joined(separator: ", "))]
        var wrapped = Self.state(contexts: long)
        Reducer.reduce(&wrapped, .key(.char("j")))
        let lines = text(wrapped).split(separator: "\n")
        for n in 1...12 {
            let name = String(format: "client.prop-%02d", n)
            XCTAssertEqual(lines.filter { $0.contains(name) }.count, 1, "\(name) whole on one line:\n\(text(wrapped))")
        }
        XCTAssertEqual(ContextsScreen.wrapList("a, bb, ccc, dddd", to: 9), ["a, bb,", "ccc,", "dddd"])
    }

    func testEnterSwitchesTheHighlightedContext() {
        var state = Self.state()
        XCTAssertEqual(Reducer.reduce(&state, .key(.enter)), [], "enter on the context in use switches nowhere")
        XCTAssertEqual(state.message?.text, "already on context local")
        Reducer.reduce(&state, .key(.char("j")))
        XCTAssertEqual(Reducer.reduce(&state, .key(.enter)), [.switchContext("prod")])
        XCTAssertEqual(state.message?.text, "switching to context prod…")
        // Filtered: enter takes the highlighted row of what the filter shows.
        var filtered = Self.state()
        for key in [Key.char("/"), .char("r"), .char("a"), .char("b"), .enter] { Reducer.reduce(&filtered, .key(key)) }
        XCTAssertTrue(text(filtered).contains("Contexts 1/4"), text(filtered))
        XCTAssertEqual(Reducer.reduce(&filtered, .key(.enter)), [.switchContext("rabbit")])
    }

    func testCtxNameSwitchesDirectlyAndAnUnknownNameListsTheContexts() {
        var state = Fixtures.liveState(width: 80, height: 24)
        state.viewStates[ContextsState.self] = Self.contexts()
        XCTAssertEqual(Reducer.runCommand(&state, "ctx prod"), [.switchContext("prod")])
        XCTAssertEqual(state.view, .topics, "switching directly opens no list")
        XCTAssertEqual(Reducer.runCommand(&state, "ctx nope"), [])
        XCTAssertEqual(state.message?.level, .error)
        XCTAssertEqual(state.message?.text, "no context named 'nope' (contexts: local, prod, rabbit, typo)")
        XCTAssertTrue(text(state).contains("no context named 'nope' (contexts: local, prod, rabbit, typo)"), text(state))
        XCTAssertEqual(Reducer.runCommand(&state, "context local"), [], "the context in use")
        XCTAssertEqual(Reducer.runCommand(&state, "contexts"), [])
        XCTAssertEqual(state.view, ContextsModel.view)
    }

    func testARunningRequeueIsNeverTornBySwitching() {
        var state = Self.state()
        var dialog = RedriveDialog(topic: "orders.DLT", positions: [RecordPosition(topic: "orders.DLT", partition: 0, offset: 1)], selection: "1 marked",
                                   targets: ["orders": 1], rate: 100)
        dialog.phase = .running(nil)
        state.redrive = dialog
        XCTAssertEqual(ContextsModel.switchTo(&state, "prod"), [])
        XCTAssertEqual(state.message?.level, .error)
        XCTAssertTrue(state.message?.text.contains("a requeue is running") == true, String(describing: state.message))
    }

    func testWithoutContextsTheViewSaysHowToAddOne() {
        let none = ContextsState(entries: [], configFile: "~/.config/evtop/config.yaml", configExists: false, current: nil)
        var state = Self.state(width: 100, height: 12, contexts: none)
        XCTAssertTrue(text(state).contains("no config file: add contexts to ~/.config/evtop/config.yaml as docs/configuration.md shows"),
                      text(state))
        XCTAssertEqual(Reducer.runCommand(&state, "ctx prod"), [])
        XCTAssertEqual(state.message?.text, "no contexts to switch to: no config file (see docs/configuration.md)")
        // At 80 columns the path gives way, never the pointer to the docs.
        let long = ContextsState(entries: [], configFile: "/home/operator/some/deeply/nested/config/folder/evtop/config.yaml",
                                 configExists: true, current: nil)
        let narrow = text(Self.state(width: 80, height: 24, contexts: long))
        XCTAssertTrue(narrow.contains("no contexts in /home/op"), narrow)
        XCTAssertTrue(narrow.contains(": add one as docs/configuration.md shows"), narrow)
        // Started with --broker: none is marked, and the title says so.
        let elsewhere = text(Self.state(contexts: Self.contexts(current: nil)))
        XCTAssertTrue(elsewhere.contains("Contexts · none in use"), elsewhere)
        XCTAssertFalse(elsewhere.contains("● local"), elsewhere)
    }

    func testTinyTerminalStillShowsTheContexts() {
        let state = Self.state(width: 20, height: 5)
        let lines = text(state).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines.allSatisfy { TextWidth.of(String($0)) <= 20 }, text(state))
        XCTAssertTrue(lines[0].contains("evtop"), text(state))
        XCTAssertTrue(text(state).contains("local"), text(state))
        assertGolden(Screen.render(state, theme: .fallback), "ctx-20x5")
    }

    func testHelpListsTheCommandAndTheViewsKeys() {
        let entries = HelpScreen.sections.first { $0.title == "Contexts" }?.entries ?? []
        XCTAssertEqual(entries.map(\.key), ["enter"])
        XCTAssertEqual(entries.first?.text, "switch to the highlighted context")
        XCTAssertTrue(HelpScreen.sections.flatMap(\.entries).contains { $0.key.contains(":ctx [NAME]") })
    }
}
