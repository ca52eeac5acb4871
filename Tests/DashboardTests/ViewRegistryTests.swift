import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// The registry is the only place views are named: keys, hints, help, `:` commands and view specs follow from it.
final class ViewRegistryTests: XCTestCase {
    private struct GrowingState: ViewStateValue { var items: [Int] = [] }

    /// A view's state changes in place: the insights windows (dictionaries of 20,000 ids) were copied whole
    /// on every sampled batch while the store still held the value being changed.
    func testAViewStateChangesInPlaceWithoutACopy() {
        var store = ViewStateStore()
        store[GrowingState.self].items.reserveCapacity(64)
        store[GrowingState.self].items.append(1)
        let before = store[GrowingState.self].items.withUnsafeBufferPointer { $0.baseAddress }
        store[GrowingState.self].items.append(2)
        let after = store[GrowingState.self].items.withUnsafeBufferPointer { $0.baseAddress }
        XCTAssertEqual(store[GrowingState.self].items, [1, 2])
        XCTAssertEqual(before, after, "the change copied the state's storage")
    }

    /// One state with data for every view: topics and groups, letters, sagas and an open timeline.
    private static let base: AppState = {
        var state = SagaFixtures.timelineState(width: 100, height: 30)
        Reducer.reduce(&state, .deadLettersLoaded(topic: "orders.DLT", letters: DeadLetterFixtures.letters()))
        return state
    }()

    /// A view of every registration, with data to show.
    private static var views: [ViewID] {
        let letter = DeadLetterModel.letterRows(base, topic: "orders.DLT").first
        return [.topics, .partitions(topic: "orders"), .registered(name: "queue", argument: "orders"),
                .registered(name: "brokers", argument: ""), .lag, .groupPartitions(group: "inventory-service"), .sagas,
                .sagaTimeline(id: "ord-7f3a"), .deadLetters, .deadLetterList(topic: "orders.DLT"),
                .registered(name: "exceptions", argument: "orders.DLT"),
                .deadLetterDetail(topic: "orders.DLT", partition: letter?.partition ?? 0, offset: letter?.offset ?? 0),
                InsightsModel.view, MessagesModel.view(topic: "orders", partition: 1),
                .registered(name: "message", argument: "orders@1/1000"), .registered(name: "ctx", argument: "")]
    }

    /// `state` showing `view`, with somewhere to go back to, and every load it wants already asked for.
    private func state(showing view: ViewID) -> AppState {
        var state = Self.base
        state.view = view
        state.backStack = [.topics]
        state.message = nil
        for _ in 0..<3 where !Reducer.reduce(&state, .tick(state.now)).isEmpty {}
        return state
    }

    /// The state as keys can change it: everything but what only snapshots and loads bring.
    private func fingerprint(_ state: AppState) -> String {
        let derived: Set<String> = ["snapshot", "meter", "lagTracker", "groupLags", "topicRowsCache", "deadLetters", "deadLetterRows"]
        var text = ""
        for child in Mirror(reflecting: state).children where !derived.contains(child.label ?? "") {
            text += (child.label ?? "?") + ": "
            dump(child.value, to: &text)
        }
        return text
    }

    private static let everyKey: [Key] = (0x20...0x7e).compactMap { UnicodeScalar($0).map { Key.char(Character($0)) } }
        + "abcdefghijklmnopqrstuvwxyz".map(Key.ctrl)
        + [.enter, .escape, .backspace, .delete, .tab, .backTab, .up, .down, .left, .right, .pageUp, .pageDown, .home, .end]
        + (1...12).map(Key.function)

    func testEveryKeyAViewHandlesIsInItsBindings() {
        XCTAssertEqual(Set(Self.views.map(\.name)), Set(ViewRegistry.all.map(\.name)), "a view of every registration")
        for view in Self.views {
            let registration = ViewRegistry.registration(for: view)
            XCTAssertEqual(registration.name, view.name)
            let bound = registration.bindings.flatMap(\.keys) + GlobalKeys.all.flatMap(\.keys)
            let before = state(showing: view)
            let unchanged = fingerprint(before)
            var handled = 0
            for key in Self.everyKey {
                var after = before
                let effects = Reducer.reduce(&after, .key(key))
                guard !effects.isEmpty || fingerprint(after) != unchanged else { continue }
                handled += 1
                XCTAssertTrue(bound.contains(key), "\(view.spec): \(key) changes the state but no binding lists it")
            }
            XCTAssertGreaterThan(handled, 5, "\(view.spec): keys do something")
        }
    }

    func testHelpListsEveryBindingAndHintsNameOnlyBoundKeys() {
        let helpKeys = HelpScreen.sections.flatMap(\.entries).map(\.key)
        func inHelp(_ label: String) -> Bool { helpKeys.contains { $0 == label || $0.hasPrefix(label + " / ") } }
        for binding in GlobalKeys.all where binding.label != GlobalKeys.views.label {
            XCTAssertTrue(inHelp(binding.label), "global \(binding.label) missing from help")
        }
        for registration in ViewRegistry.all {
            for binding in registration.bindings { XCTAssertTrue(inHelp(binding.label), "\(registration.name): \(binding.label) missing from help") }
            if let n = registration.numberKey { XCTAssertTrue(inHelp("\(n) / :\(registration.name)"), "\(registration.name) on \(n)") }
            let labels = Set((registration.bindings + GlobalKeys.all).map(\.label))
            for hint in registration.hints { XCTAssertTrue(labels.contains(hint.binding), "\(registration.name): hint for unbound \(hint.binding)") }
        }
        for command in GlobalKeys.commands { XCTAssertTrue(helpKeys.contains { $0.contains(command.label) }, "\(command.label) missing from help") }
        // The bindings that had drifted out of the overlay.
        for label in ["f", "J K", ":pause :resume", ":help"] { XCTAssertTrue(helpKeys.contains { $0.contains(label) }, label) }
    }

    func testStatusHintsComeFromTheRegistration() {
        var state = state(showing: .sagaTimeline(id: "ord-7f3a"))
        XCTAssertEqual(StatusBar.keyHints(state).map(\.0), ["esc", "j/k", "J/K", "f", "g/G", "?", "q"])
        Reducer.reduce(&state, .key(.char("f")))
        XCTAssertEqual(StatusBar.keyHints(state).first { $0.0 == "f" }?.1, state.sagas.following ? "unfollow" : "follow")
        var wide = self.state(showing: .topics)
        wide.size = Size(width: 160, height: 48)
        let topics = StatusBar.keyHints(wide)
        XCTAssertEqual(Array(topics.prefix(5).map(\.1)), ViewRegistry.numbered.map(\.name))
        // A narrow terminal names the number keys once, so the view's own keys keep their room.
        wide.size = Size(width: 80, height: 24)
        XCTAssertEqual(StatusBar.keyHints(wide).first.map { "\($0.0) \($0.1)" }, "1–5 views")
        XCTAssertEqual(topics.first { $0.0 == "enter" }?.1, "partitions")
    }

    func testViewSpecsRoundTripForEveryView() throws {
        XCTAssertEqual(ViewRegistry.specForms, ["topics", "partitions:TOPIC", "queue:QUEUE", "brokers", "lag", "group:GROUP", "sagas", "saga:ID",
                                                "dlq", "letters:TOPIC", "exceptions:TOPIC", "letter:TOPIC/PARTITION/OFFSET", "insights",
                                                "messages:TOPIC[@P]", "message:TOPIC@P/OFFSET", "ctx"])
        for view in Self.views { XCTAssertEqual(try ViewRegistry.parse(view.spec), view, view.spec) }
        XCTAssertEqual(try ViewRegistry.parse("letter:orders.DLT/2/42"), .deadLetterDetail(topic: "orders.DLT", partition: 2, offset: 42))
        XCTAssertEqual(try ViewRegistry.parse("groups"), .lag)
        XCTAssertEqual(try ViewRegistry.parse("saga"), .sagas, "saga alone is the list")
        XCTAssertEqual(try ViewRegistry.parse("saga:ord-7f3a"), .sagaTimeline(id: "ord-7f3a"))
        XCTAssertEqual(try ViewRegistry.parse("partitions orders"), .partitions(topic: "orders"))
        XCTAssertEqual(try ViewRegistry.parse("saga:a:b"), .sagaTimeline(id: "a:b"), "the argument keeps its colons")
    }

    func testBadViewSpecsSayWhatIsAccepted() {
        XCTAssertThrowsError(try ViewRegistry.parse("bogus")) { error in
            XCTAssertEqual(error as? ViewSpecError, .unknown("bogus"))
            XCTAssertTrue("\(error)".contains("letter:TOPIC/PARTITION/OFFSET"), "\(error)")
        }
        XCTAssertThrowsError(try ViewRegistry.parse("partitions")) { XCTAssertEqual($0 as? ViewSpecError, .malformed("partitions", expected: ["partitions:TOPIC"])) }
        XCTAssertThrowsError(try ViewRegistry.parse("topics:orders")) { XCTAssertEqual($0 as? ViewSpecError, .malformed("topics:orders", expected: ["topics"])) }
        for bad in ["letter:orders.DLT/x/1", "letter:orders.DLT/1", "letter:/1/2", "letter:t/-1/2"] {
            XCTAssertThrowsError(try ViewRegistry.parse(bad), bad)
        }
    }

    func testCommandsOpenViewsAndTheCommandsTheHelpLacked() {
        var state = state(showing: .topics)
        XCTAssertEqual(Reducer.runCommand(&state, "partitions orders"), [])
        XCTAssertEqual(state.view, .partitions(topic: "orders"))
        _ = Reducer.runCommand(&state, "letter orders.DLT/0/3")
        XCTAssertEqual(state.view, .deadLetterDetail(topic: "orders.DLT", partition: 0, offset: 3))
        _ = Reducer.runCommand(&state, "groups")
        XCTAssertEqual(state.view, .lag)
        _ = Reducer.runCommand(&state, "pause")
        XCTAssertTrue(state.paused)
        _ = Reducer.runCommand(&state, "resume")
        XCTAssertFalse(state.paused)
        _ = Reducer.runCommand(&state, "help")
        XCTAssertTrue(state.showHelp)
        _ = Reducer.runCommand(&state, "letter orders.DLT/zero")
        XCTAssertEqual(state.message?.level, .error)
        XCTAssertEqual(state.view, .lag)
    }

    func testAViewWithoutATableTouchesNoOtherViewsCursor() {
        // Before, `default:` branches handed any other view the topics cursor.
        for view in [ViewID.registered(name: "nowhere", argument: ""), .sagaTimeline(id: "ord-7f3a")] {
            var state = state(showing: view)
            state.topicsCursor = TableCursor(selectedKey: "orders", scroll: 0)
            for key in [Key.char("j"), .char("G"), .pageDown, .char("/"), .char("x"), .enter] { Reducer.reduce(&state, .key(key)) }
            XCTAssertEqual(state.topicsCursor, TableCursor(selectedKey: "orders", scroll: 0), view.spec)
        }
        var state = state(showing: .registered(name: "nowhere", argument: ""))
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("no view is registered as “nowhere”"))
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .topics)
    }

    func testRegisteredViewsKeepTheirOwnState() {
        struct Probe: ViewStateValue { var cursor = TableCursor() }
        var state = Self.base
        XCTAssertNil(state.viewStates[Probe.self].cursor.selectedKey)
        state.viewStates[Probe.self].cursor.selectedKey = "x"
        XCTAssertEqual(state.viewStates[Probe.self].cursor.selectedKey, "x")
        XCTAssertEqual(ViewID.registered(name: "insights", argument: "").spec, "insights")
    }
}
