import Dashboard
import EventModel
import Foundation
import TerminalUI
import XCTest

/// The messages view: a window over a topic's records, read a page at a time either way.
final class MessagesViewTests: XCTestCase {
    static let t0 = Int64(Fixtures.end.timeIntervalSince1970 * 1000)

    static func record(_ p: Int32, _ offset: Int64, ms: Int64, key: [UInt8]? = nil, headers: [RecordHeader] = [], value: [UInt8]?) -> Record {
        Record(topic: "orders", partition: p, offset: offset, timestampMillis: ms, key: key, headers: headers, value: value)
    }

    /// Orders 0…n-1 over two partitions, one every 100 ms, newest last.
    static func orders(_ range: Range<Int>) -> [Record] {
        range.map { n in
            record(Int32(n % 2), Int64(n / 2), ms: t0 - 60_000 + Int64(n) * 100, key: Array("ord-\(n)".utf8),
                   headers: [RecordHeader("event-type", n % 5 == 4 ? "OrderCancelled" : "OrderPlaced"), RecordHeader("correlation-id", "ord-\(n)")],
                   value: Array("{\"order\":\(n),\"amount\":\(n * 10)}".utf8))
        }
    }

    private func rows(_ records: [Record]) -> [MessageRow] { records.map { MessageRow($0, rules: .default) } }

    private func open(width: Int = 120, height: Int = 30) -> (AppState, [Effect]) {
        var state = Fixtures.liveState(width: width, height: height)
        Reducer.reduce(&state, .key(.char("1")))
        // `m` on the highlighted topic.
        let effects = Reducer.reduce(&state, .key(.char("m")))
        XCTAssertEqual(state.view.name, "messages")
        return (state, effects)
    }

    private func read(_ effects: [Effect]) -> MessageRead? {
        for case .readMessages(let read) in effects { return read }
        return nil
    }

    /// Answers `read` with `records` (already in the order read), as the performer would.
    private func answer(_ state: inout AppState, _ read: MessageRead, _ records: [Record], positions: [Int32: LogPosition],
                        start: [Int32: LogPosition]? = nil, highs: [Int32: LogPosition] = [0: 150, 1: 150], exhausted: Bool = false,
                        stoppedEarly: Bool = false, scanned: Int? = nil, skipped: Int64 = 0) -> [Effect] {
        Reducer.reduce(&state, .messagesRead(MessagesLoaded(serial: read.request.serial, direction: read.request.direction, rows: rows(records),
                                                            positions: positions, start: start, lows: [0: 0, 1: 0], highs: highs,
                                                            scanned: scanned ?? records.count, exhausted: exhausted, stoppedEarly: stoppedEarly,
                                                            skipped: skipped)))
    }

    func testOpeningReadsTheNewestPageThenOlderPagesAsTheCursorNearsTheBottom() throws {
        var (state, effects) = open()
        let topic = try XCTUnwrap(MessagesModel.scope(state.view.argument)?.topic)
        let first = try XCTUnwrap(read(effects))
        XCTAssertEqual(first.seek, .end)
        XCTAssertEqual(first.request.direction, .older)
        XCTAssertEqual(first.request.topic, topic)
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("reading \(topic)…"))
        // Nothing asked again while the read is under way.
        XCTAssertNil(read(Reducer.reduce(&state, .tick(state.now))))
        let page = Array(Self.orders(100..<300).reversed())
        effects = answer(&state, first, page, positions: [0: 50, 1: 50], start: [0: 150, 1: 150])
        XCTAssertNil(read(effects), "the cursor is at the top: nothing more is needed")
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("ord-299"), text)
        XCTAssertTrue(text.contains("newest first"), text)
        XCTAssertTrue(text.contains("1/200"), text)
        assertGolden(Screen.render(state, theme: .fallback), "messages-120x30")
        // G: the bottom is near, the next older page is read from where each partition stopped.
        effects = Reducer.reduce(&state, .key(.char("G")))
        let older = try XCTUnwrap(read(effects))
        XCTAssertEqual(older.request.direction, .older)
        XCTAssertEqual(older.request.positions, [0: 50, 1: 50])
        XCTAssertNil(older.seek)
        _ = answer(&state, older, Array(Self.orders(0..<100).reversed()), positions: [0: 0, 1: 0], exhausted: true)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 300)
        XCTAssertTrue(state.viewStates[MessagesState.self].oldestReached)
        XCTAssertNil(read(Reducer.reduce(&state, .key(.char("G")))), "nothing older is left")
        // An answer to an older read of another window is dropped.
        _ = answer(&state, first, Self.orders(0..<5), positions: [:])
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 300)
    }

    func testTheWindowKeepsAThousandRowsAndMovesThePositionsOverWhatItDrops() throws {
        var (state, effects) = open()
        var request = try XCTUnwrap(read(effects))
        _ = answer(&state, request, Array(Self.orders(1_000..<1_200).reversed()), positions: [0: 500, 1: 500], start: [0: 600, 1: 600],
                   highs: [0: 600, 1: 600])
        var low = 1_000
        while low > 0 {
            effects = Reducer.reduce(&state, .key(.char("G")))
            request = try XCTUnwrap(read(effects))
            let next = max(0, low - 200)
            _ = answer(&state, request, Array(Self.orders(next..<low).reversed()), positions: [0: Int64(next / 2), 1: Int64(next / 2)],
                       highs: [0: 600, 1: 600], exhausted: next == 0)
            low = next
        }
        let s = state.viewStates[MessagesState.self]
        XCTAssertEqual(s.rows.count, MessagesModel.maxRows)
        // The oldest 1,000 are kept; the newest 200 were dropped and will be read again from their first positions.
        XCTAssertEqual(s.rows.first?.record.key, Array("ord-999".utf8))
        XCTAssertEqual(s.newer, [0: 500, 1: 500])
        XCTAssertFalse(s.newestReached)
        // g: the top is near, so the dropped newest are read again.
        effects = Reducer.reduce(&state, .key(.char("g")))
        let newer = try XCTUnwrap(read(effects))
        XCTAssertEqual(newer.request.direction, .newer)
        XCTAssertEqual(newer.request.positions, [0: 500, 1: 500])
    }

    func testTailReadsNewRecordsRidesOnTheNewestAndCountsWhatItPassesOver() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        _ = answer(&state, first, Array(Self.orders(60..<120).reversed()), positions: [0: 30, 1: 30], start: [0: 60, 1: 60], highs: [0: 60, 1: 60])
        // f: the next read is a tail read, from where the window's newest end stands.
        effects = Reducer.reduce(&state, .key(.char("f")))
        XCTAssertTrue(state.viewStates[MessagesState.self].following)
        let tail = try XCTUnwrap(read(effects))
        XCTAssertEqual(tail.request.direction, .newer)
        XCTAssertTrue(tail.request.tail)
        XCTAssertEqual(tail.request.positions, [0: 60, 1: 60])
        // The log far ahead: the reader kept the newest page and counted what it passed over; the next tail read
        // is asked for as soon as this one lands (the performer paces them).
        let arrived = Self.orders(9_800..<10_000)
        effects = answer(&state, tail, arrived, positions: [0: 5_000, 1: 5_000], highs: [0: 5_000, 1: 5_000], skipped: 9_680)
        let s = state.viewStates[MessagesState.self]
        XCTAssertEqual(s.skipped, 9_680)
        XCTAssertEqual(s.newer, [0: 5_000, 1: 5_000])
        XCTAssertEqual(MessagesModel.highlighted(state)?.record.key, Array("ord-9999".utf8), "the cursor rides on the newest")
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("● tailing · 9,680 skipped"), text)
        let next = try XCTUnwrap(read(effects))
        XCTAssertTrue(next.request.tail)
        XCTAssertEqual(next.request.positions, [0: 5_000, 1: 5_000])
        _ = answer(&state, next, [], positions: [0: 5_000, 1: 5_000], highs: [0: 5_000, 1: 5_000], exhausted: true, skipped: 0)
        XCTAssertEqual(state.viewStates[MessagesState.self].skipped, 9_680, "nothing new, nothing passed over")
        // f again stops; no read is asked for then.
        Reducer.reduce(&state, .key(.char("f")))
        XCTAssertNil(read(Reducer.reduce(&state, .tick(state.now.addingTimeInterval(5)))))
    }

    func testTailPressedBeforeTheFirstPageLandsStillFollows() throws {
        // `m` then `f` at once: the cursor has no row yet when the tail starts, and it still goes on.
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        XCTAssertNil(read(Reducer.reduce(&state, .key(.char("f")))), "one read at a time")
        effects = answer(&state, first, Array(Self.orders(60..<120).reversed()), positions: [0: 30, 1: 30], start: [0: 60, 1: 60],
                         highs: [0: 60, 1: 60])
        let tail = try XCTUnwrap(read(effects), "the tail reads on once the first page is there")
        XCTAssertTrue(tail.request.tail)
        _ = answer(&state, tail, Self.orders(120..<124), positions: [0: 62, 1: 62], highs: [0: 62, 1: 62], exhausted: true)
        XCTAssertEqual(MessagesModel.highlighted(state)?.record.key, Array("ord-123".utf8), "the cursor rides on the newest")
    }

    func testSeekStartsTheWindowOverOldestFirstAndAStructuredFilterIsReadFromTheLog() throws {
        var (state, effects) = open()
        _ = try XCTUnwrap(read(effects))
        effects = Reducer.runCommand(&state, "seek -15m")
        effects += Reducer.reduce(&state, .tick(state.now))
        let seek = try XCTUnwrap(read(effects))
        XCTAssertEqual(seek.seek, .time(Self.t0 - 900_000))
        XCTAssertEqual(seek.request.direction, .newer)
        XCTAssertTrue(state.viewStates[MessagesState.self].oldestFirst)
        _ = answer(&state, seek, Self.orders(0..<50), positions: [0: 25, 1: 25], start: [0: 0, 1: 0])
        XCTAssertEqual(MessagesModel.rows(state).first?.record.key, Array("ord-0".utf8))
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("oldest first · from "))
        // A bad target says what can be typed and changes nothing.
        Reducer.runCommand(&state, "seek yesterday")
        XCTAssertTrue(state.message?.text.contains("cannot seek to 'yesterday'") ?? false)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 50)
        // A regex filter narrows what is loaded; a structured one is read from the log once entered.
        Reducer.reduce(&state, .key(.char("/")))
        for c in "ord-1" { Reducer.reduce(&state, .key(.char(c))) }
        XCTAssertFalse(MessagesModel.rows(state).isEmpty)
        XCTAssertTrue(MessagesModel.rows(state).allSatisfy { MessagesModel.keyText($0.record.key).contains("ord-1") })
        Reducer.reduce(&state, .key(.escape))
        Reducer.reduce(&state, .key(.char("/")))
        var typed: [Effect] = []
        for c in "type=OrderCancelled" { typed += Reducer.reduce(&state, .key(.char(c))) }
        XCTAssertNil(read(typed), "nothing is read while the filter is typed")
        effects = Reducer.reduce(&state, .key(.enter))
        let filtered = try XCTUnwrap(read(effects))
        XCTAssertEqual(filtered.request.filter?.text, "type=OrderCancelled")
        XCTAssertEqual(filtered.seek, .time(Self.t0 - 900_000), "the window starts over where it was opened")
        // A filter that matches little so far: the view says how far it read and reads on.
        effects = answer(&state, filtered, [], positions: [0: 25_000, 1: 25_000], start: [0: 0, 1: 0], highs: [0: 90_000, 1: 90_000],
                         stoppedEarly: true, scanned: 50_000)
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("no match yet in 50,000 records read"))
        XCTAssertEqual(read(effects)?.request.positions, [0: 25_000, 1: 25_000])
    }

    func testARecordsDetailIsInertDecodedAndOpensItsSaga() throws {
        var (state, effects) = open(width: 100, height: 40)
        let first = try XCTUnwrap(read(effects))
        let hostile = Self.record(1, 7, ms: Self.t0, key: [0x1B, 0x5B, 0x32, 0x4A, 0xFF],
                                  headers: [RecordHeader("x-evil\u{1B}]0;pwned\u{07}", "\u{1B}[31mred"), RecordHeader("correlation-id", "ord-7")],
                                  value: [0x00, 0x00, 0x00, 0x01, 0x2C] + Array("{\"order\":7}".utf8))
        let big = Self.record(0, 3, ms: Self.t0 - 1, key: nil, headers: [], value: [UInt8](repeating: 0x41, count: 5 * 1024 * 1024))
        _ = answer(&state, first, [hostile, big], positions: [0: 3, 1: 7], start: [0: 4, 1: 8], exhausted: true)
        let list = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(list.contains("\u{1B}"), list)
        XCTAssertTrue(list.contains("[schema 300] {\"order\":7}"), list)
        XCTAssertTrue(list.contains("0x1b5b324aff"), list)
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, MessagesModel.recordView(hostile))
        let detail = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(detail.contains("\u{1B}") || detail.contains("\u{07}"), detail)
        XCTAssertTrue(detail.contains("schema id 300"), detail)
        XCTAssertTrue(detail.contains("\"order\" : 7"), detail)
        XCTAssertTrue(detail.contains("1b 5b 32 4a ff"), detail)
        assertGolden(Screen.render(state, theme: .fallback), "message-detail-100x40")
        Reducer.reduce(&state, .key(.char("c")))
        XCTAssertEqual(state.view, .sagaTimeline(id: "ord-7"))
        Reducer.reduce(&state, .key(.escape))
        Reducer.reduce(&state, .key(.escape))
        // The 5 MB value is kept cut, and the detail says so.
        Reducer.reduce(&state, .key(.char("j")))
        Reducer.reduce(&state, .key(.enter))
        let cut = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(cut.contains("the value is 5.0 MiB: its first 64.0 KiB are shown"), cut)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.map { $0.record.value?.count ?? 0 }.max(), MessagesModel.maxValueBytes)
    }

    func testATinyTerminalAndAFailedReadSayWhatTheyCan() throws {
        var (state, effects) = open(width: 20, height: 5)
        let first = try XCTUnwrap(read(effects))
        _ = answer(&state, first, Array(Self.orders(0..<10).reversed()), positions: [0: 0, 1: 0], start: [0: 5, 1: 5], exhausted: true)
        assertGolden(Screen.render(state, theme: .fallback), "messages-20x5")
        (state, effects) = open()
        let failing = try XCTUnwrap(read(effects))
        Reducer.reduce(&state, .messagesReadFailed(serial: failing.request.serial, "broker unavailable"))
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("cannot read"))
        XCTAssertNil(read(Reducer.reduce(&state, .tick(state.now.addingTimeInterval(5)))), "a failed window waits for a seek or a reopen")
        // A tail whose read fails keeps its rows, says why in the title, and tries again; a page that lands clears it.
        (state, effects) = open()
        let page = try XCTUnwrap(read(effects))
        effects = answer(&state, page, Array(Self.orders(60..<120).reversed()), positions: [0: 30, 1: 30], start: [0: 60, 1: 60],
                         highs: [0: 60, 1: 60], exhausted: true)
        let tail = try XCTUnwrap(read(Reducer.reduce(&state, .key(.char("f")))))
        let retry = try XCTUnwrap(read(Reducer.reduce(&state, .messagesReadFailed(serial: tail.request.serial, "broker unavailable"))))
        XCTAssertTrue(retry.request.tail)
        var text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("cannot read on: broker unavailable · retrying"), text)
        XCTAssertTrue(text.contains("ord-119"), "the rows stay")
        _ = answer(&state, retry, Self.orders(120..<122), positions: [0: 61, 1: 61], highs: [0: 61, 1: 61], exhausted: true)
        text = Screen.render(state, theme: .fallback).plainText
        XCTAssertFalse(text.contains("cannot read"), text)
        XCTAssertTrue(text.contains("● tailing"), text)
    }

    func testARegexThatHidesMostRowsReadsNoPagesBackAndForthAndABadFilterSaysWhy() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        _ = answer(&state, first, Array(Self.orders(400..<600).reversed()), positions: [0: 200, 1: 200], start: [0: 300, 1: 300],
                   highs: [0: 300, 1: 300])
        // A regex that matches nothing loaded: the cursor stays where it was in the window; nothing is read.
        Reducer.reduce(&state, .key(.char("/")))
        var asked: [Effect] = []
        for c in "nothing-like-this" { asked += Reducer.reduce(&state, .key(.char(c))) }
        asked += Reducer.reduce(&state, .key(.enter))
        asked += Reducer.reduce(&state, .tick(state.now.addingTimeInterval(3)))
        XCTAssertNil(read(asked))
        XCTAssertTrue(MessagesModel.rows(state).isEmpty)
        Reducer.reduce(&state, .key(.escape))
        // `/error` looks structured but is no comparison: the view says why and reads nothing.
        Reducer.reduce(&state, .key(.char("/")))
        for c in "/error" { Reducer.reduce(&state, .key(.char(c))) }
        effects = Reducer.reduce(&state, .key(.enter))
        XCTAssertNil(read(effects))
        let text = Screen.render(state, theme: .fallback).plainText
        XCTAssertTrue(text.contains("needs a comparison"), text)
    }

    /// Effects other than reads (what `y`, `Y`, `:save` and stops ask for).
    private func others(_ effects: [Effect]) -> [Effect] {
        effects.filter { if case .readMessages = $0 { return false }; return true }
    }

    func testCopyAndSaveActOnTheHighlightedRowAndTheOpenRecordThroughTheLettersEffects() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        let big = Self.record(1, 60, ms: Self.t0, key: Array("big".utf8), value: [UInt8](repeating: 0x41, count: 100_000))
        let page = [big] + Array(Self.orders(100..<110).reversed())
        _ = answer(&state, first, page, positions: [0: 50, 1: 50], start: [0: 61, 1: 61], highs: [0: 61, 1: 61], exhausted: true)
        // The list: the highlighted row.
        Reducer.reduce(&state, .key(.char("j")))
        let ord109 = RecordPosition(topic: "orders", partition: 1, offset: 54)
        XCTAssertEqual(MessagesModel.highlighted(state)?.record.key, Array("ord-109".utf8))
        XCTAssertEqual(others(Reducer.reduce(&state, .key(.char("y")))), [.copyRecord(ord109, whole: false)])
        XCTAssertEqual(others(Reducer.reduce(&state, .key(.char("Y")))), [.copyRecord(ord109, whole: true)])
        XCTAssertEqual(others(Reducer.runCommand(&state, "save /tmp/ord.json")), [.saveRecord(ord109, path: "/tmp/ord.json")])
        // The record found where the messages view holds it, with what the rules found when it was read.
        let held = try XCTUnwrap(HeldRecords.find(state, ord109))
        XCTAssertEqual(held.record.key, Array("ord-109".utf8))
        XCTAssertEqual(held.extraction?.eventType, "OrderCancelled")
        XCTAssertEqual(held.extraction?.correlationID, "ord-109")
        XCTAssertNil(held.letter)
        XCTAssertNil(held.cutFrom)
        // The detail: the record open, cut to 64 KiB in the window, and the held record says how long it is.
        Reducer.reduce(&state, .key(.char("k")))
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, MessagesModel.recordView(big))
        let bigAt = RecordPosition(topic: "orders", partition: 1, offset: 60)
        XCTAssertEqual(others(Reducer.reduce(&state, .key(.char("y")))), [.copyRecord(bigAt, whole: false)])
        XCTAssertEqual(others(Reducer.runCommand(&state, "save")), [.saveRecord(bigAt, path: nil)])
        let cut = try XCTUnwrap(HeldRecords.find(state, bigAt))
        XCTAssertEqual(cut.cutFrom, 100_000)
        XCTAssertEqual(cut.record.value?.count, MessagesModel.maxValueBytes)
        // The keys are listed where the help shows the messages views' keys.
        let help = try XCTUnwrap(HelpScreen.sections.first { $0.title == "Messages" })
        XCTAssertEqual(help.entries.filter { ["y", "Y"].contains($0.key) }.map(\.key), ["y", "Y"])
        // Elsewhere there is nothing to save, and it says so.
        Reducer.reduce(&state, .key(.char("1")))
        XCTAssertEqual(Reducer.runCommand(&state, "save"), [])
        XCTAssertEqual(state.message?.text.hasPrefix("nothing to save here"), true)
    }

    func testATextValueThatIsNotJSONShowsAsWrappedTextAndOnlyBinaryAsHex() throws {
        var (state, effects) = open(width: 80, height: 30)
        let first = try XCTUnwrap(read(effects))
        let csv = "ord-42,2026-12-05T02:00:00Z,customer-42,\"Main St, 1\",129.90,EUR,express\tgift-wrapped,\u{1B}[31mred,"
            + "a line long enough to wrap at eighty columns of the terminal\nsecond line"
        let hello = Self.record(0, 1, ms: Self.t0 - 2, key: nil, value: Array("hello world".utf8))
        let text = Self.record(0, 2, ms: Self.t0 - 1, key: nil, value: Array(csv.utf8))
        let nul = Self.record(0, 3, ms: Self.t0, key: nil, value: Array("text\0with a NUL".utf8))
        _ = answer(&state, first, [nul, text, hello], positions: [0: 1], start: [0: 4], highs: [0: 4], exhausted: true)
        // Newest first: the NUL one, the CSV line, hello world.
        func detail(_ r: Record) -> String {
            if case .registered("message", _) = state.view { Reducer.reduce(&state, .key(.escape)) }
            Reducer.reduce(&state, .key(.char("g")))
            for _ in 0..<([nul, text, hello].firstIndex(of: r) ?? 0) { Reducer.reduce(&state, .key(.char("j"))) }
            Reducer.reduce(&state, .key(.enter))
            return Screen.render(state, theme: .fallback).plainText
        }
        let helloText = detail(hello)
        XCTAssertEqual(state.view, MessagesModel.recordView(hello))
        XCTAssertTrue(helloText.contains("Payload (11 B, text)"), helloText)
        XCTAssertTrue(helloText.contains("│   hello world"), helloText)
        let nulText = detail(nul)
        XCTAssertEqual(state.view, MessagesModel.recordView(nul))
        XCTAssertTrue(nulText.contains("74 65 78 74 00 77 69 74") && nulText.contains("|text.wit"), nulText)
        _ = detail(text)
        XCTAssertEqual(state.view, MessagesModel.recordView(text))
        let screen = Screen.render(state, theme: .fallback)
        XCTAssertFalse(screen.plainText.contains("\u{1B}"), screen.plainText)
        assertGolden(screen, "message-detail-text-80x30")
    }

    func testLeavingTheListStopsTheReadInFlightAndDropsItsLateAnswer() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        // esc back to the topics while the first read is under way: it is stopped.
        effects = Reducer.reduce(&state, .key(.escape))
        XCTAssertNotEqual(state.view.name, "messages")
        XCTAssertEqual(others(effects), [.stopMessageRead(serial: first.request.serial)])
        // Its answer, late, does not land in the window.
        _ = answer(&state, first, Array(Self.orders(0..<20).reversed()), positions: [0: 0, 1: 0], start: [0: 10, 1: 10], exhausted: true)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 0)
        // Back on the list, the page is read again, under a new serial.
        effects = Reducer.reduce(&state, .key(.char("m")))
        let again = try XCTUnwrap(read(effects))
        XCTAssertEqual(again.seek, .end)
        XCTAssertGreaterThan(again.request.serial, first.request.serial)
        _ = answer(&state, again, Array(Self.orders(0..<20).reversed()), positions: [0: 0, 1: 0], start: [0: 10, 1: 10],
                   highs: [0: 10, 1: 10], exhausted: true)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 20)
        // Nothing in flight: opening a record stops nothing.
        XCTAssertEqual(others(Reducer.reduce(&state, .key(.enter))), [])
    }

    func testEscAndASeekStopAStructuredScanUnderWay() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        _ = answer(&state, first, Array(Self.orders(100..<300).reversed()), positions: [0: 50, 1: 50], start: [0: 150, 1: 150])
        Reducer.reduce(&state, .key(.char("/")))
        for c in "key=nothing-like-this" { Reducer.reduce(&state, .key(.char(c))) }
        effects = Reducer.reduce(&state, .key(.enter))
        let scan = try XCTUnwrap(read(effects))
        effects = answer(&state, scan, [], positions: [0: 100, 1: 100], start: [0: 150, 1: 150], stoppedEarly: true, scanned: 100)
        // The scan goes on page after page; esc stops the page under way and reads the unfiltered window again.
        let going = try XCTUnwrap(read(effects))
        XCTAssertEqual(going.request.filter?.text, "key=nothing-like-this")
        effects = Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(others(effects), [.stopMessageRead(serial: going.request.serial)])
        let unfiltered = try XCTUnwrap(read(effects))
        XCTAssertNil(unfiltered.request.filter)
        XCTAssertNil(state.viewStates[MessagesState.self].filterText)
        // The stopped scan's answer is dropped; the new window's lands.
        _ = answer(&state, going, [], positions: [0: 0, 1: 0], stoppedEarly: true, scanned: 50_000)
        XCTAssertEqual(state.viewStates[MessagesState.self].scanned, 0)
        _ = answer(&state, unfiltered, Array(Self.orders(100..<300).reversed()), positions: [0: 50, 1: 50], start: [0: 150, 1: 150])
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 200)
        // A seek while a page is read stops that read too.
        Reducer.reduce(&state, .key(.char("G")))
        let older = try XCTUnwrap(state.viewStates[MessagesState.self].loading ? state.viewStates[MessagesState.self].serial : nil)
        XCTAssertEqual(others(Reducer.runCommand(&state, "seek beginning")), [.stopMessageRead(serial: older)])
    }

    /// `o` only shows the same window the other way round (rows are kept newest first): a page read for it
    /// still belongs to it, so the flip stops nothing and the page lands.
    func testAnOrderFlipKeepsTheWindowSoItsPageUnderWayLands() throws {
        var (state, effects) = open()
        let first = try XCTUnwrap(read(effects))
        _ = answer(&state, first, Array(Self.orders(100..<300).reversed()), positions: [0: 50, 1: 50], start: [0: 150, 1: 150])
        let older = try XCTUnwrap(read(Reducer.reduce(&state, .key(.char("G")))))
        XCTAssertEqual(others(Reducer.reduce(&state, .key(.char("o")))), [])
        XCTAssertTrue(state.viewStates[MessagesState.self].oldestFirst)
        _ = answer(&state, older, Array(Self.orders(0..<100).reversed()), positions: [0: 0, 1: 0], exhausted: true)
        XCTAssertEqual(state.viewStates[MessagesState.self].rows.count, 300)
        XCTAssertEqual(MessagesModel.rows(state).first?.record.key, Array("ord-0".utf8), "oldest first")
    }

    func testAPreviewFoldsWhitespaceEscapesControlsAndCutsTheSameWayForASCIIAndOtherText() {
        // ASCII takes a byte-wise path, other text the Character one: both fold, escape and cut alike.
        XCTAssertEqual(MessagesModel.preview(Array("  {\"a\":\r\n\t 1,\u{1b}[2J \"b\": 2}  ".utf8), width: 80), "{\"a\": 1,␛[2J \"b\": 2}")
        XCTAssertEqual(MessagesModel.preview(Array("  {\"é\":\r\n\t 1,\u{1b}[2J \"b\": 2}  ".utf8), width: 80), "{\"é\": 1,␛[2J \"b\": 2}")
        XCTAssertEqual(MessagesModel.preview(Array("abc   def ghi".utf8), width: 6), "abc de")
        XCTAssertEqual(MessagesModel.preview(Array("abé   déf ghi".utf8), width: 6), "abé dé")
        XCTAssertEqual(MessagesModel.preview(Array("\u{1f}\u{7f} x".utf8), width: 10), "␟␡ x")
        XCTAssertEqual(MessagesModel.preview(Array(" \n ".utf8), width: 10), "")
        XCTAssertEqual(MessagesModel.preview(nil, width: 10), "tombstone")
        let row = MessageRow(Record(topic: "t", partition: 0, offset: 1, timestampMillis: 0, key: [0xff, 0x00],
                                    headers: [], value: Array("{ \"x\" :\n 1 }".utf8)), rules: .default)
        XCTAssertEqual(row.preview, "{ \"x\" : 1 }", "the row carries its preview, made when it was read")
        XCTAssertEqual(row.keyText, "0xff00")
    }

    func testViewArgumentsNameAPartitionOnlyWhenTheyMeanIt() {
        XCTAssertEqual(MessagesModel.scope("orders")?.topic, "orders")
        XCTAssertNil(MessagesModel.scope("orders")?.partition)
        XCTAssertEqual(MessagesModel.scope("orders@3")?.partition, 3)
        XCTAssertEqual(MessagesModel.view(topic: "odd@7", partition: nil).argument, "odd@7@*")
        XCTAssertEqual(MessagesModel.scope("odd@7@*")?.topic, "odd@7")
        XCTAssertNil(MessagesModel.scope("odd@7@*")?.partition)
        let r = Self.record(2, 41, ms: 0, value: nil)
        XCTAssertEqual(MessagesModel.recordPosition(MessagesModel.recordView(r).argument), RecordPosition(topic: "orders", partition: 2, offset: 41))
        XCTAssertNil(MessagesModel.recordPosition("orders/41"))
    }
}
