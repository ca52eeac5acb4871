import XCTest
import Foundation
import EventModel
import EmbeddedStore
import Redrive
import Simulator
import TerminalUI
import Dashboard
@testable import App

/// A demo store made by the real simulator on a real SQLite file: orders flowing through four services
/// for a simulated half minute, with poison messages on the dead-letter topics.
enum DemoStore {
    static func make(in dir: URL, seconds: Int = 30) async throws -> String {
        let path = dir.appendingPathComponent("demo.db").path
        let log = try SQLiteLog(path: path)
        let system = DemoSystem(log: log, config: DemoConfig(rate: 40, seed: 7, poisonRate: 0.05))
        try await system.setUp()
        let start = Date().addingTimeInterval(-Double(seconds))
        for step in 0...(seconds * 10) {
            try await system.advance(to: start.addingTimeInterval(Double(step) / 10))
        }
        return path
    }
}

/// Whole dashboard sessions on `TestBackend`, fed keys as an operator types them, on a real store.
@UIActor
final class DashboardSessionTests: XCTestCase {
    var dir: URL!

    var savedState: String?

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Journals live in the state folder: keep this test's out of the user's.
        savedState = ProcessInfo.processInfo.environment["XDG_STATE_HOME"]
        setenv("XDG_STATE_HOME", dir.appendingPathComponent("state").path, 1)
    }

    override func tearDown() async throws {
        if let savedState { setenv("XDG_STATE_HOME", savedState, 1) } else { unsetenv("XDG_STATE_HOME") }
        try? FileManager.default.removeItem(at: dir)
    }

    /// The redrive journals in this test's state folder.
    private var journals: [String] {
        let folder = dir.appendingPathComponent("state/evtop/redrive").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".journal") }.map { folder + "/" + $0 }
    }

    private func session(_ path: String, width: Int = 120, height: Int = 30, readOnly: Bool = false) async throws -> DashboardSession<TestBackend> {
        let backend = TestBackend(width: width, height: height)
        let session = try await DashboardApp.session(on: backend, source: SourceSelection(broker: "sqlite:" + path, readOnly: readOnly))
        await session.refresh()
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "the first loads came back")
        return session
    }

    private func press(_ session: DashboardSession<TestBackend>, _ keys: Key...) async {
        session.backend.enqueue(keys: keys)
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "every load and job the keys started came back")
    }

    /// The walk: open the demo store, `2`, `enter`, `4`, `enter`, `r`, `enter`; the letter is requeued
    /// exactly once, the journal says so, and the list shows it as requeued.
    func testRequeueOneLetterFromTheKeyboard() async throws {
        let path = try await DemoStore.make(in: dir)
        let session = try await session(path)
        XCTAssertTrue(session.backend.buffer.plainText.contains("orders"), session.backend.buffer.plainText)

        await press(session, .char("2"))
        XCTAssertEqual(session.state.view, .lag)
        await press(session, .enter)
        guard case .groupPartitions(let group) = session.state.view else { return XCTFail("enter on a group opens its partitions: \(session.state.view)") }
        XCTAssertTrue(session.backend.buffer.plainText.contains(group), session.backend.buffer.plainText)

        await press(session, .char("4"))
        XCTAssertEqual(session.state.view, .deadLetters)
        await press(session, .enter)
        guard case .deadLetterList(let dlq) = session.state.view else { return XCTFail("enter on a DLQ opens its letters: \(session.state.view)") }
        let letters = session.state.deadLetters[dlq] ?? []
        XCTAssertFalse(letters.isEmpty, "the demo's DLQ \(dlq) has letters")
        let screen = session.backend.buffer.plainText
        XCTAssertTrue(screen.contains(dlq), screen)

        await press(session, .char("r"))
        XCTAssertNotNil(session.state.redrive, "r opens the confirm dialog")
        await press(session, .enter)
        // The job runs in the background; settle waits for its report.
        await session.settle()
        guard case .finished(let report)? = session.state.redrive?.phase else {
            return XCTFail("the requeue finished: \(String(describing: session.state.redrive?.phase))\n\(session.backend.buffer.plainText)")
        }
        XCTAssertEqual(report.moved, 1)
        XCTAssertEqual(report.failed, 0)

        XCTAssertEqual(journals.count, 1, "one journal, named after the store's id: \(journals)")
        let journal = try RedriveJournal(path: try XCTUnwrap(journals.first), readOnly: true)
        let jobs = try journal.jobs(limit: 10)
        XCTAssertEqual(jobs.count, 1)
        XCTAssertEqual(jobs.first?.moved, 1)
        XCTAssertEqual(jobs.first?.sourceTopic, dlq)

        // Exactly one copy in the original topic carries the redrive id of that letter.
        guard let letter = letters.first, let original = letter.originalTopic else { return XCTFail("the letter names its original topic") }
        let store = try SQLiteLog(path: path, mode: .readOnly)
        let info = try await store.watermarks(topic: original)
        var copies = 0
        for p in info.partitions {
            var next = p.low
            while next < p.high {
                let (records, after) = try await store.read(topic: original, partition: p.partition, from: next, maxRecords: 5_000)
                copies += records.filter { $0.header("evtop-redrive-id") != nil }.count
                guard after > next else { break }
                next = after
            }
        }
        XCTAssertEqual(copies, 1)

        // esc closes the report; the row leaves the list, counted in its title, and H shows it as requeued, from the journal.
        await press(session, .escape)
        await session.settle()
        XCTAssertTrue(session.backend.buffer.plainText.contains("1 handled hidden"), session.backend.buffer.plainText)
        await press(session, .char("H"))
        await session.settle()
        XCTAssertTrue(session.backend.buffer.plainText.contains("redriven"), session.backend.buffer.plainText)
    }

    /// `--read-only`: `r` refuses and nothing is written, not even a journal.
    func testReadOnlySessionRefusesToRequeue() async throws {
        let path = try await DemoStore.make(in: dir, seconds: 20)
        let session = try await session(path, readOnly: true)
        await press(session, .char("4"), .enter)
        guard case .deadLetterList(let dlq) = session.state.view else { return XCTFail("enter opens the letters: \(session.state.view)") }
        XCTAssertFalse((session.state.deadLetters[dlq] ?? []).isEmpty)
        let screen = session.backend.buffer.plainText
        XCTAssertTrue(screen.contains("READ-ONLY"), "the header says so: \(screen)")
        XCTAssertFalse(screen.contains("r requeue"), "the key bar does not offer a write it refuses: \(screen)")
        await press(session, .char("r"))
        XCTAssertNil(session.state.redrive)
        XCTAssertTrue(session.backend.buffer.plainText.contains("read-only"), session.backend.buffer.plainText)
        XCTAssertTrue(journals.isEmpty, "a read-only session writes no journal: \(journals)")
    }

    /// `:follow ID` opens the saga timeline of an order through the correlation index the session keeps.
    func testFollowingAnOrderShowsItsSaga() async throws {
        let path = try await DemoStore.make(in: dir, seconds: 20)
        let session = try await session(path, width: 140, height: 40)
        try await session.catchUpIndex()
        await press(session, .char("3"))
        XCTAssertEqual(session.state.view, .sagas)
        guard let first = session.state.sagas.rows?.first else { return XCTFail("the demo has sagas:\n\(session.backend.buffer.plainText)") }
        session.backend.enqueue(keys: [.char(":")] + "follow \(first.id)".map { Key.char($0) } + [.enter])
        await session.settle()
        XCTAssertEqual(session.state.view, .sagaTimeline(id: first.id))
        XCTAssertEqual(session.state.sagas.timeline?.correlationID, first.id)
        XCTAssertTrue(session.backend.buffer.plainText.contains(first.id), session.backend.buffer.plainText)
    }

    /// A 20×5 terminal still draws every view without trapping.
    func testTinyTerminal() async throws {
        let path = try await DemoStore.make(in: dir, seconds: 5)
        let session = try await session(path, width: 20, height: 5)
        let views: [(Character, ViewID)] = [("1", .topics), ("2", .lag), ("3", .sagas), ("4", .deadLetters)]
        for (key, view) in views {
            await press(session, .char(key))
            XCTAssertEqual(session.state.view, view)
            let lines = session.backend.buffer.plainText.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 5)
            XCTAssertTrue(lines.allSatisfy { $0.count <= 20 }, session.backend.buffer.plainText)
            XCTAssertTrue(lines[0].contains("evtop"), "the header still names the app: \(lines[0])")
        }
        // Resizing back up redraws the current view whole.
        session.backend.resize(to: Size(width: 100, height: 30))
        let settled = await session.settle()
        XCTAssertTrue(settled)
        XCTAssertTrue(session.backend.buffer.plainText.contains(".DLT"), session.backend.buffer.plainText)
    }
}

extension DashboardSessionTests {
    private func type(_ session: DashboardSession<TestBackend>, _ command: String) async {
        await press(session, [.char(":")] + command.map { Key.char($0) } + [.enter])
    }

    private func press(_ session: DashboardSession<TestBackend>, _ keys: [Key]) async {
        session.backend.enqueue(keys: keys)
        let settled = await session.settle(timeout: .seconds(60))
        XCTAssertTrue(settled, "every load the keys started came back")
    }

    /// The document `evtop messages --json` prints for `r`, as the session's rules read it.
    private func printed(_ r: Record, _ session: DashboardSession<TestBackend>) throws -> NSDictionary {
        let json = try ScriptJSON.encode(RecordJSON(r, extraction: session.performer.insights.rules.extract(r)))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary)
    }

    private func object(_ text: String) throws -> NSDictionary {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, text)
    }

    /// `y`, `Y` and `:save` in the messages view, on the highlighted row and on the open record, through the
    /// letters' path: the clipboard and the file hold what `evtop messages --json` prints for the record; a
    /// value longer than the window keeps is not copied cut, and `:save` reads it whole from the log.
    func testAMessagesRecordIsCopiedAndSavedAsEvtopMessagesPrintsIt() async throws {
        let path = dir.appendingPathComponent("messages.db").path
        let records: [OutgoingRecord] = [
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: 1_800_000_000_000, key: Array("ord-1".utf8),
                           headers: [RecordHeader("event-type", "OrderPlaced"), RecordHeader("correlation-id", "ord-1")],
                           value: Array("{\"order\":1,\"note\":\"\\u001b[31m\"}".utf8)),
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: 1_800_000_000_100, key: nil, headers: [],
                           value: Array(String(repeating: "0123456789", count: 10_000).utf8)),
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: 1_800_000_000_200, key: [0xFF], headers: [],
                           value: [0xFF, 0x00, 0x01]),
        ]
        do {
            let log = try SQLiteLog(path: path)
            try await log.createTopic("orders", partitions: 1)
            try await log.produce(records)
        }
        let stored = try await SQLiteLog(path: path, mode: .readOnly).read(topic: "orders", partition: 0, from: 0, maxRecords: 10).records
        XCTAssertEqual(stored.count, 3)
        let session = try await session(path)
        await type(session, "messages orders@0")
        XCTAssertEqual(MessagesModel.rows(session.state).map(\.record.offset), [2, 1, 0], session.backend.buffer.plainText)

        // The newest, highlighted: its binary payload goes to the clipboard as base64.
        await press(session, [.char("y")])
        XCTAssertEqual(session.backend.clipboard, [Data([0xFF, 0x00, 0x01]).base64EncodedString()])
        XCTAssertEqual(session.state.message?.text.hasPrefix("copied the binary payload as base64 (3 B)"), true, session.state.message?.text ?? "")
        // The oldest: Y copies the record as evtop messages --json prints it.
        await press(session, [.char("G"), .char("Y")])
        XCTAssertEqual(try object(try XCTUnwrap(session.backend.clipboard.last)), try printed(stored[0], session))
        XCTAssertEqual(try object(try XCTUnwrap(session.backend.clipboard.last))["eventType"] as? String, "OrderPlaced")
        XCTAssertNil(try object(try XCTUnwrap(session.backend.clipboard.last))["deadLetter"])
        // The 100 kB one is held cut: nothing is copied, and :save is offered.
        await press(session, [.char("k"), .char("y")])
        XCTAssertEqual(session.backend.clipboard.count, 2)
        XCTAssertEqual(session.state.message?.text.contains("the view keeps only the first 64.0 KiB of this 97.7 KiB value: :save writes the record whole to a file"), true, session.state.message?.text ?? "")
        // :save from its detail writes it whole, read again from the log, and never over a file.
        await press(session, [.enter])
        XCTAssertEqual(session.state.view, MessagesModel.recordView(stored[1]))
        let file = dir.appendingPathComponent("big.json").path
        await type(session, "save " + file)
        XCTAssertEqual(session.state.message?.text, "saved orders p0@1 as JSON to \(file)")
        let saved = try object(String(contentsOfFile: file, encoding: .utf8))
        XCTAssertEqual(saved, try printed(stored[1], session))
        XCTAssertEqual(((saved["value"] as? NSDictionary)?["text"] as? String)?.utf8.count, 100_000)
        await type(session, "save " + file)
        XCTAssertEqual(session.state.message?.text.contains("it exists already"), true, session.state.message?.text ?? "")
    }
}
