import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// Dead letters as Spring Kafka writes them (binary big-endian numbers), plus hostile ones.
enum DeadLetterFixtures {
    static func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    static func spring(topic: String = "orders", partition: Int32, offset: Int64, timestamp: Int64,
                       cause: String, message: [UInt8], group: String = "payment-service") -> [RecordHeader] {
        [
            RecordHeader("kafka_dlt-original-topic", topic),
            RecordHeader(name: "kafka_dlt-original-partition", value: be(partition)),
            RecordHeader(name: "kafka_dlt-original-offset", value: be(offset)),
            RecordHeader(name: "kafka_dlt-original-timestamp", value: be(timestamp)),
            RecordHeader("kafka_dlt-original-timestamp-type", "CreateTime"),
            RecordHeader("kafka_dlt-original-consumer-group", group),
            RecordHeader("kafka_dlt-exception-fqcn", "org.springframework.kafka.listener.ListenerExecutionFailedException"),
            RecordHeader("kafka_dlt-exception-cause-fqcn", cause),
            RecordHeader(name: "kafka_dlt-exception-message", value: message),
            RecordHeader("kafka_dlt-exception-stacktrace", """
                org.springframework.kafka.listener.ListenerExecutionFailedException: Listener method threw exception
                \tat org.springframework.kafka.listener.KafkaMessageListenerContainer.invokeListener(KafkaMessageListenerContainer.java:2869)
                Caused by: \(cause): \(String(decoding: message, as: UTF8.self))
                \tat com.example.\(group.replacingOccurrences(of: "-", with: "")).OrderListener.onMessage(OrderListener.java:42)
                \t... 12 more
                """),
        ]
    }

    /// Fifteen letters on orders.DLT (offsets 0–14, one every 8 minutes up to a minute before `end`).
    static func letters() -> [DeadLetter] {
        (0..<15).map { i -> DeadLetter in
            let offset = Int64(i)
            let ts = Fixtures.millis(Double(-60 - (14 - i) * 480))
            let originalOffset = Int64(70 + i)
            var headers: [RecordHeader]
            var value: [UInt8]
            switch i {
            case 14:
                // Escape sequences in text headers, and a header that is not UTF-8 at all.
                headers = spring(partition: 1, offset: originalOffset, timestamp: ts - 900, cause: "java.lang.IllegalStateException",
                                 message: Array("sku-\u{1b}[31m66\u{1b}[0m reserved twice\u{07}".utf8))
                headers += [RecordHeader("correlation-id", "ord-\u{1b}[2Jevil"), RecordHeader(name: "x-binary", value: [0xff, 0xfe, 0x41, 0x00]),
                            RecordHeader("event-type", "OrderPlaced")]
                value = Array(#"{"eventType":"OrderPlaced","orderId":"ord-e1","note":"\u001b[31mred","items":[{"sku":"sku-66","qty":2}]}"#.utf8)
            case 13:
                // Invalid UTF-8 in the exception message.
                headers = spring(partition: 0, offset: originalOffset, timestamp: ts - 900, cause: "com.fasterxml.jackson.core.JsonParseException",
                                 message: [0x49, 0x6e, 0x76, 0xc3, 0x28, 0x20, 0x62, 0x79, 0x74, 0x65])
                headers.append(RecordHeader("correlation-id", "ord-5c21"))
                value = [0x7b, 0x22, 0x65, 0xc3, 0x28, 0x00, 0x01, 0x02, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47]
            default:
                switch i % 3 {
                case 0:
                    headers = spring(partition: Int32(i % 3), offset: originalOffset, timestamp: ts - 900,
                                     cause: "java.lang.IllegalStateException", message: Array("sku-\(40 + i) out of stock".utf8))
                    headers += [RecordHeader("correlation-id", "ord-7f3a\(i)"), RecordHeader("event-type", "OrderPlaced")]
                    value = Array(#"{"eventType":"OrderPlaced","orderId":"ord-7f3a\#(i)","sku":"sku-\#(40 + i)"}"#.utf8)
                case 1:
                    headers = spring(partition: 2, offset: originalOffset, timestamp: ts - 900,
                                     cause: "java.util.concurrent.TimeoutException", message: Array("gateway 504 after 30000 ms".utf8))
                    headers.append(RecordHeader("correlation-id", "ord-81c\(i)"))
                    value = Array(#"{"eventType":"PaymentRequested","amount":12.5}"#.utf8)
                default:
                    headers = spring(partition: 1, offset: originalOffset, timestamp: ts - 900,
                                     cause: "java.lang.IllegalStateException", message: Array("sku-\(40 + i) out of stock".utf8))
                    value = Array("plain text, not JSON".utf8)
                }
            }
            let record = Record(topic: "orders.DLT", partition: 0, offset: offset, timestampMillis: ts,
                                key: Array("ord-\(i)".utf8), headers: headers, value: value)
            return DeadLetterParser.parse(record)
        }
    }

    /// The live fixture, in the DLQ overview, with orders.DLT's letters loaded.
    static func state(width: Int, height: Int) -> AppState {
        var state = Fixtures.liveState(width: width, height: height)
        Reducer.reduce(&state, .key(.char("4")))
        Reducer.reduce(&state, .deadLettersLoaded(topic: "orders.DLT", letters: letters().shuffled()))
        Reducer.reduce(&state, .deadLettersLoaded(topic: "payments.DLT", letters: []))
        return state
    }
}

final class DeadLetterReducerTests: XCTestCase {
    func testKey4SwitchesAndAsksForEveryDLQOnce() {
        var state = Fixtures.liveState(width: 80, height: 24)
        let effects = Reducer.reduce(&state, .key(.char("4")))
        XCTAssertEqual(state.view, .deadLetters)
        XCTAssertEqual(effects, [.loadDeadLetters(["orders.DLT", "payments.DLT"])])
        // Nothing changed: no reload on keys or on a snapshot with the same watermarks.
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("j"))), [])
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(state.snapshot!)), [])
        // orders.DLT grows: only it is reloaded.
        var grown = state.snapshot!
        grown.time = grown.time.addingTimeInterval(1)
        let i = grown.topics.firstIndex { $0.name == "orders.DLT" }!
        grown.topics[i].partitions[0].high += 1
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(grown)), [.loadDeadLetters(["orders.DLT"])])
    }

    func testNoLoadsOutsideDeadLetterViews() {
        var state = Fixtures.liveState(width: 80, height: 24)
        for t in 1...5 {
            XCTAssertEqual(Reducer.reduce(&state, .snapshot(Fixtures.snapshot(at: Double(t)))), [])
        }
        XCTAssertTrue(state.deadLetterRequestedHighs.isEmpty)
    }

    func testColonDLQCommandSwitches() {
        var state = Fixtures.liveState(width: 80, height: 24)
        let effects = Reducer.runCommand(&state, "dlq")
        XCTAssertEqual(state.view, .deadLetters)
        XCTAssertEqual(effects, [], "loads are planned by reduce, after the command")
        var state2 = Fixtures.liveState(width: 80, height: 24)
        for c in ":dlq" { Reducer.reduce(&state2, .key(.char(c))) }
        XCTAssertEqual(Reducer.reduce(&state2, .key(.enter)), [.loadDeadLetters(["orders.DLT", "payments.DLT"])])
        XCTAssertEqual(state2.view, .deadLetters)
    }

    func testLongLinesWrapInsteadOfBeingCutAtOneColumn() throws {
        var state = DeadLetterFixtures.state(width: 80, height: 60)
        Reducer.reduce(&state, .key(.enter))
        Reducer.reduce(&state, .key(.enter))
        let letter = try XCTUnwrap(DeadLetterModel.letter(state, topic: "orders.DLT", partition: 0, offset: 14))
        let long = try XCTUnwrap(DeadLetterModel.detailLines(letter, state: state).map(\.text).first { TextWidth.of($0) > 78 },
                                 "the fixture has a line longer than the screen")
        let screen = Screen.render(state, theme: .fallback).lines.map { line in
            line.trimmingCharacters(in: CharacterSet(charactersIn: "│ "))
        }
        // Every character of the long line is on screen, over consecutive rows.
        let head = long.trimmingCharacters(in: .whitespaces)
        let start = try XCTUnwrap(screen.firstIndex { !$0.isEmpty && head.hasPrefix($0) }, long + "\n" + screen.joined(separator: "\n"))
        var rebuilt = screen[start]
        for row in screen[(start + 1)...] {
            guard rebuilt.filter({ $0 != " " }).count < head.filter({ $0 != " " }).count else { break }
            rebuilt += row
        }
        XCTAssertEqual(rebuilt.filter { $0 != " " }, head.filter { $0 != " " })
    }

    func testDrillInToListAndDetailAndBack() {
        var state = DeadLetterFixtures.state(width: 80, height: 24)
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"))
        // Newest first.
        XCTAssertEqual(DeadLetterModel.letterRows(state, topic: "orders.DLT").map(\.offset), (0...14).reversed().map(Int64.init))
        Reducer.reduce(&state, .key(.char("j")))
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterDetail(topic: "orders.DLT", partition: 0, offset: 13))
        Reducer.reduce(&state, .key(.char("j")))
        XCTAssertEqual(state.deadLetterDetailScroll, 1)
        Reducer.reduce(&state, .key(.char("G")))
        let inner = Layout(size: state.size).tableArea
        let lines = DeadLetterModel.detailRows(DeadLetterModel.letter(state, topic: "orders.DLT", partition: 0, offset: 13)!, state: state,
                                               width: inner.width).count
        XCTAssertEqual(state.deadLetterDetailScroll, max(0, lines - Layout(size: state.size).inner.height))
        Reducer.reduce(&state, .key(.char("g")))
        XCTAssertEqual(state.deadLetterDetailScroll, 0)
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"))
        XCTAssertEqual(state.deadLetterCursor.selectedKey, "0/13", "the cursor stays on the letter")
        Reducer.reduce(&state, .key(.escape))
        XCTAssertEqual(state.view, .deadLetters)
    }

    func testListLoadsOnlyItsTopic() {
        var state = DeadLetterFixtures.state(width: 80, height: 24)
        Reducer.reduce(&state, .key(.enter))
        var grown = state.snapshot!
        grown.time = grown.time.addingTimeInterval(1)
        for i in grown.topics.indices where grown.topics[i].name.hasSuffix(".DLT") { grown.topics[i].partitions[0].high += 1 }
        XCTAssertEqual(Reducer.reduce(&state, .snapshot(grown)), [.loadDeadLetters(["orders.DLT"])])
    }

    func testStorageIsBoundedToTheNewest() {
        var state = Fixtures.liveState(width: 80, height: 24)
        var many: [DeadLetter] = []
        for i in 0..<1_200 {
            let record = Record(topic: "orders.DLT", partition: Int32(i % 2), offset: Int64(i / 2),
                                timestampMillis: Int64(1_000 + i), key: nil, headers: [], value: nil)
            many.append(DeadLetterParser.parse(record))
        }
        Reducer.reduce(&state, .deadLettersLoaded(topic: "orders.DLT", letters: many))
        XCTAssertEqual(state.deadLetters["orders.DLT"]?.count, DeadLetterModel.maxLettersPerTopic)
        XCTAssertEqual(state.deadLetterRows["orders.DLT"]?.count, DeadLetterModel.maxLettersPerTopic)
        XCTAssertEqual(state.deadLetters["orders.DLT"]?.first?.record.timestampMillis, 2_199)
        XCTAssertEqual(state.deadLetters["orders.DLT"]?.last?.record.timestampMillis, 1_700)
    }

    func testFilterMatchesEveryColumn() {
        var state = DeadLetterFixtures.state(width: 80, height: 24)
        Reducer.reduce(&state, .key(.enter))
        for c in "/Timeout" { Reducer.reduce(&state, .key(.char(c))) }
        let rows = DeadLetterModel.letterRows(state, topic: "orders.DLT")
        XCTAssertFalse(rows.isEmpty)
        XCTAssertTrue(rows.allSatisfy { $0.exception.hasPrefix("TimeoutException") })
        Reducer.reduce(&state, .key(.ctrl("u")))
        for c in "ord-5c21" { Reducer.reduce(&state, .key(.char(c))) }
        XCTAssertEqual(DeadLetterModel.letterRows(state, topic: "orders.DLT").map(\.offset), [13])
    }

    func testRowsAndOverview() throws {
        let state = DeadLetterFixtures.state(width: 80, height: 24)
        let rows = DeadLetterModel.letterRows(state, topic: "orders.DLT")
        let newest = try XCTUnwrap(rows.first)
        XCTAssertEqual(newest.original, "orders p1@84")
        XCTAssertTrue(newest.exception.hasPrefix("IllegalStateException: sku-"), newest.exception)
        XCTAssertEqual(newest.eventType, "OrderPlaced")
        XCTAssertEqual(rows.first { $0.offset == 1 }?.eventType, "PaymentRequested", "eventType from the JSON payload")
        let queues = DeadLetterModel.queueRows(state)
        XCTAssertEqual(queues.map(\.topic), ["orders.DLT", "payments.DLT"])
        XCTAssertEqual(queues[0].topException, "IllegalStateException")
        XCTAssertEqual(DeadLetterModel.age(Fixtures.millis(-7_380), now: Fixtures.end), "2h 3m ago")
        XCTAssertEqual(DeadLetterModel.growth(0.2), "+0.2/min")
    }

    func testDetailShowsDecimalTextHeadersAsTheyAre() throws {
        // kcat and most non-Java producers send the numbers as text: no hex, no repeated "= n".
        let state = DeadLetterFixtures.state(width: 80, height: 24)
        var letter = try XCTUnwrap(DeadLetterModel.letter(state, topic: "orders.DLT", partition: 0, offset: 14))
        letter.record.headers = [RecordHeader("kafka_dlt-original-topic", "payments"),
                                 RecordHeader("kafka_dlt-original-partition", "0"),
                                 RecordHeader("kafka_dlt-original-offset", "1234"),
                                 RecordHeader("kafka_dlt-original-timestamp", "-")]
        let text = DeadLetterModel.detailLines(letter, state: state).map(\.text)
        XCTAssertTrue(text.contains("  kafka_dlt-original-partition: 0"), text.joined(separator: "\n"))
        XCTAssertTrue(text.contains("  kafka_dlt-original-offset: 1234"), text.joined(separator: "\n"))
        XCTAssertFalse(text.contains { $0.contains("original-offset") && $0.contains("=") }, text.joined(separator: "\n"))
    }

    func testDetailShowsBinaryHeadersDecodedAndHugePayloadsBounded() throws {
        let state = DeadLetterFixtures.state(width: 80, height: 24)
        let letter = try XCTUnwrap(DeadLetterModel.letter(state, topic: "orders.DLT", partition: 0, offset: 14))
        let text = DeadLetterModel.detailLines(letter, state: state).map(\.text)
        XCTAssertTrue(text.contains("  kafka_dlt-original-partition: 00 00 00 01  = 1"), text.joined(separator: "\n"))
        XCTAssertTrue(text.contains("  x-binary: ff fe 41 00"))
        XCTAssertTrue(text.contains { $0.contains("\"eventType\" : \"OrderPlaced\"") || $0.contains("\"eventType\": \"OrderPlaced\"") })
        XCTAssertTrue(text.contains { $0.hasPrefix("Stack trace (5 lines)") })

        var big = letter
        big.record.value = [UInt8](repeating: 0xFF, count: 10 * 1024 * 1024)
        let bigLines = DeadLetterModel.detailLines(big, state: state)
        XCTAssertLessThan(bigLines.count, 400)
        XCTAssertTrue(bigLines.contains { $0.text.contains("more bytes") })
        // 10 MiB of text on one line: shown as text, cut at maxTextCharacters, and it says so.
        var bigText = letter
        bigText.record.value = [UInt8](repeating: 0x41, count: 10 * 1024 * 1024)
        let textLines = DeadLetterModel.detailLines(bigText, state: state)
        XCTAssertTrue(textLines.contains { $0.text == "Payload (10.0 MiB, text)" }, textLines.map(\.text).joined(separator: "\n"))
        XCTAssertEqual(textLines.filter { $0.text.hasPrefix("  AAAA") }.map { $0.text.count }, [2 + DeadLetterModel.maxTextCharacters])
        XCTAssertTrue(textLines.contains { $0.text.contains("the rest of this line is not shown") })
        var bigJSON = letter
        bigJSON.record.value = Array(("[" + (0..<100_000).map(String.init).joined(separator: ",") + "]").utf8)
        let jsonLines = DeadLetterModel.detailLines(bigJSON, state: state)
        XCTAssertLessThan(jsonLines.count, DeadLetterModel.maxPayloadLines + 60)
        XCTAssertTrue(jsonLines.contains { $0.text.contains("more lines") })
    }
}

final class DeadLetterScreenTests: XCTestCase {
    /// No cell may carry a control character (ESC, BEL, C1…): payloads are untrusted.
    func assertNoControlCharacters(_ buffer: ScreenBuffer, file: StaticString = #filePath, line: UInt = #line) {
        for (y, text) in buffer.lines.enumerated() {
            let bad = text.unicodeScalars.first { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
            XCTAssertNil(bad, "control character on line \(y): \(text)", file: file, line: line)
        }
    }

    func render(_ state: AppState) -> ScreenBuffer {
        let buffer = Screen.render(state, theme: .fallback)
        assertNoControlCharacters(buffer)
        return buffer
    }

    func listState(width: Int, height: Int) -> AppState {
        var state = DeadLetterFixtures.state(width: width, height: height)
        Reducer.reduce(&state, .key(.enter))
        return state
    }

    func detailState(width: Int, height: Int) -> AppState {
        var state = listState(width: width, height: height)
        Reducer.reduce(&state, .key(.enter))
        return state
    }

    func testOverviewGolden80x24() { assertGolden(render(DeadLetterFixtures.state(width: 80, height: 24)), "dlq-80x24") }
    func testOverviewGolden160x48() { assertGolden(render(DeadLetterFixtures.state(width: 160, height: 48)), "dlq-160x48") }
    func testListGolden80x24() { assertGolden(render(listState(width: 80, height: 24)), "dlq-list-80x24") }
    func testListGolden160x48() { assertGolden(render(listState(width: 160, height: 48)), "dlq-list-160x48") }
    func testDetailGolden80x24() { assertGolden(render(detailState(width: 80, height: 24)), "dlq-detail-80x24") }
    func testDetailGolden160x48() { assertGolden(render(detailState(width: 160, height: 48)), "dlq-detail-160x48") }

    func testDetailScrolledShowsPayloadAndStackTraceWithoutControls() {
        var state = detailState(width: 80, height: 24)
        for _ in 0..<3 { Reducer.reduce(&state, .key(.pageDown)) }
        let text = render(state).lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("Caused by") || text.contains("Stack trace"), text)
        // The invalid-UTF-8 letter: hex dump with an ASCII column.
        var other = listState(width: 100, height: 60)
        Reducer.reduce(&other, .key(.char("j")))
        Reducer.reduce(&other, .key(.enter))
        let hex = render(other).lines.joined(separator: "\n")
        XCTAssertTrue(hex.contains("000000  7b 22 65 c3 28 00 01 02  1b 5b 33 31 6d 41 42 43 |{\"e.(....[31mABC|"), hex)
        XCTAssertTrue(hex.contains("Problems"), hex)
    }

    func testLoadingAndTinySizesDoNotCrash() {
        var state = Fixtures.liveState(width: 80, height: 24)
        Reducer.reduce(&state, .key(.char("4")))
        XCTAssertTrue(render(state).lines.joined().contains("loading…"))
        for (w, h) in [(20, 5), (1, 1), (0, 0), (39, 7)] {
            var s = DeadLetterFixtures.state(width: w, height: h)
            _ = render(s)
            Reducer.reduce(&s, .key(.enter))
            _ = render(s)
            Reducer.reduce(&s, .key(.enter))
            _ = render(s)
            Reducer.reduce(&s, .key(.char("G")))
            _ = render(s)
        }
    }
}

/// A letter whose type and correlation ID are only in its payload still shows them (issue 14 item 15).
final class DeadLetterPayloadFieldsTests: XCTestCase {
    func testTypeAndCorrelationFromThePayload() {
        let record = Record(topic: "orders.DLT", partition: 0, offset: 7, timestampMillis: 1_000, key: nil,
                            headers: [RecordHeader("kafka_dlt-original-topic", "orders")],
                            value: Array(#"{"type":"OrderPlaced","correlationId":"ord-9","amount":3}"#.utf8))
        let row = DeadLetterModel.row(DeadLetterParser.parse(record))
        XCTAssertEqual(row.eventType, "OrderPlaced")
        XCTAssertEqual(row.correlation, "ord-9")
    }
}

/// `e` in a DLQ's letters: grouped by exception; `enter` goes back filtered to the group.
final class ExceptionGroupsTests: XCTestCase {
    func testLettersGroupByExceptionAndEnterFiltersTheListToOneGroup() throws {
        var state = DeadLetterFixtures.state(width: 120, height: 30)
        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"))
        let rows = state.deadLetterRows["orders.DLT"] ?? []
        let groups = ExceptionGroupsView.groups(rows)
        XCTAssertEqual(groups.reduce(0) { $0 + $1.letters }, rows.count, "every letter in one group")
        XCTAssertEqual(groups.map(\.letters), groups.map(\.letters).sorted(by: >), "most frequent first")

        Reducer.reduce(&state, .key(.char("e")))
        XCTAssertEqual(state.view, .registered(name: "exceptions", argument: "orders.DLT"))
        let screen = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        let first = try XCTUnwrap(groups.first)
        XCTAssertTrue(screen.contains("\(groups.count) exception"), screen)
        XCTAssertTrue(screen.contains(first.name), screen)

        Reducer.reduce(&state, .key(.enter))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"))
        let shown = DeadLetterModel.letterRows(state, topic: "orders.DLT")
        XCTAssertEqual(shown.count, first.letters, "the list shows exactly that group")
        XCTAssertTrue(shown.allSatisfy { ($0.exceptionClass ?? $0.exception).contains(first.name) })
    }

    func testXAsksThenSkipsTheHighlightedLetterAndXAgainOffersToUnskip() throws {
        var state = DeadLetterFixtures.state(width: 120, height: 30)
        Reducer.reduce(&state, .key(.enter))
        let first = try XCTUnwrap(DeadLetterModel.letterRows(state, topic: "orders.DLT").first)
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("x"))), [], "x only asks")
        let question = try XCTUnwrap(state.confirmation)
        XCTAssertEqual(question.title, "Skip")
        let screen = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(screen.contains("Skip 1 letter of orders.DLT (p0@\(first.offset))?"), screen)
        XCTAssertTrue(screen.contains("y yes"), screen)
        // n cancels and nothing is asked of the run loop.
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("n"))), [])
        XCTAssertNil(state.confirmation)
        Reducer.reduce(&state, .key(.char("x")))
        let effects = Reducer.reduce(&state, .key(.char("y")))
        guard case .skipLetters(let request)? = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(request.positions, [RecordPosition(topic: "orders.DLT", partition: 0, offset: first.offset)])
        XCTAssertFalse(request.undo)
        XCTAssertEqual(request.allLoaded.count, 15)

        // The journal says it is skipped: the list hides it, the overview counts it out of PENDING.
        let position = RecordPosition(topic: "orders.DLT", partition: 0, offset: first.offset)
        Reducer.reduce(&state, .redriveStatesLoaded(topic: "orders.DLT", states: [position: .skipped]))
        XCTAssertEqual(DeadLetterModel.letterRows(state, topic: "orders.DLT").count, 14)
        XCTAssertFalse(DeadLetterModel.letterRows(state, topic: "orders.DLT").contains { $0.key == first.key })
        let list = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(list.contains("1 handled hidden · H shows"), list)
        // H shows it, marked skipped; x on it offers to give it back.
        Reducer.reduce(&state, .key(.char("H")))
        let shown = DeadLetterModel.letterRows(state, topic: "orders.DLT")
        XCTAssertEqual(shown.count, 15)
        XCTAssertEqual(shown.first { $0.key == first.key }?.state, "skipped")
        Reducer.reduce(&state, .key(.char("g")))
        Reducer.reduce(&state, .key(.char("x")))
        XCTAssertEqual(state.confirmation?.title, "Un-skip")
        guard case .skipLetters(let back)? = Reducer.reduce(&state, .key(.enter)).first else { return XCTFail("no un-skip") }
        XCTAssertTrue(back.undo)
        XCTAssertEqual(back.positions, [position])
    }

    func testOverviewCountsPendingWithoutHandledLettersAndSaysWhenItIsABound() throws {
        var state = DeadLetterFixtures.state(width: 120, height: 30)
        let positions = DeadLetterModel.positions(state, topic: "orders.DLT")
        Reducer.reduce(&state, .redriveStatesLoaded(topic: "orders.DLT", states: [positions[0]: .done, positions[1]: .skipped, positions[2]: .inFlight]))
        let row = try XCTUnwrap(DeadLetterModel.queueRows(state).first { $0.topic == "orders.DLT" })
        let retained = try XCTUnwrap(state.snapshot?.topics.first { $0.name == "orders.DLT" }).retained
        XCTAssertEqual(row.pending, retained - 2, "a letter in flight is not handled yet")
        XCTAssertEqual(row.pendingIsUpperBound, Int64(15) < retained)
        let screen = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(screen.contains("PENDING"), screen)
    }

    func testSkipIsRefusedUnderReadOnlyAndOnQueues() {
        var state = DeadLetterFixtures.state(width: 120, height: 30)
        Reducer.reduce(&state, .key(.enter))
        state.readOnly = true
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("x"))), [])
        XCTAssertNil(state.confirmation)
        XCTAssertEqual(state.message?.text, "read-only: skip is disabled (--read-only)")
        state.readOnly = false
        state.lettersAreQueued = true
        Reducer.reduce(&state, .key(.char("x")))
        XCTAssertNil(state.confirmation)
        XCTAssertTrue(state.message?.text.hasPrefix("skip works on logs") ?? false)
    }

    func testWOnTheDetailStopsWrappingAndHLScrollSidewaysWithinTheWidestLine() throws {
        var state = DeadLetterFixtures.state(width: 80, height: 24)
        Reducer.reduce(&state, .key(.enter))
        // The letter with a stack trace: its frames are longer than 80 columns.
        let row = try XCTUnwrap(DeadLetterModel.letterRows(state, topic: "orders.DLT").first { $0.offset == 12 })
        Reducer.runCommand(&state, "letter orders.DLT/0/\(row.offset)")
        let letter = try XCTUnwrap(DeadLetterModel.letter(state, topic: "orders.DLT", partition: 0, offset: row.offset))
        let width = Layout(size: state.size).tableArea.width
        let wrapped = DeadLetterModel.detailRows(letter, state: state, width: width)
        XCTAssertTrue(wrapped.allSatisfy { TextWidth.of($0.text) <= width })
        Reducer.reduce(&state, .key(.char("l")))
        XCTAssertEqual(state.deadLetterDetailColumn, 0, "lines wrap: nothing to scroll")
        XCTAssertEqual(state.message?.text, "lines wrap: w turns wrapping off to scroll sideways")

        Reducer.reduce(&state, .key(.char("w")))
        let runOn = DeadLetterModel.detailRows(letter, state: state, width: width)
        XCTAssertLessThan(runOn.count, wrapped.count)
        let widest = try XCTUnwrap(runOn.map { TextWidth.of($0.text) }.max())
        XCTAssertGreaterThan(widest, width)
        Reducer.reduce(&state, .key(.char("l")))
        XCTAssertEqual(state.deadLetterDetailColumn, 8)
        let screen = Screen.render(state, theme: .fallback).lines.joined(separator: "\n")
        XCTAssertTrue(screen.contains("cols 9–\(8 + width)/\(widest)"), screen)
        for _ in 0..<100 { Reducer.reduce(&state, .key(.right)) }
        XCTAssertEqual(state.deadLetterDetailColumn, widest - width, "never past the widest line's end")
        for _ in 0..<100 { Reducer.reduce(&state, .key(.char("h"))) }
        XCTAssertEqual(state.deadLetterDetailColumn, 0)
    }

    func testAWideTerminalShowsTheHighlightedLettersDetailBesideTheListAndANarrowOneDoesNot() throws {
        var state = DeadLetterFixtures.state(width: 200, height: 40)
        Reducer.reduce(&state, .key(.enter))
        Reducer.reduce(&state, .key(.char("j")))
        let row = try XCTUnwrap(Reducer.highlighted(DeadLetterModel.letterRows(state, topic: "orders.DLT"), state.deadLetterCursor, key: \.key))
        let lines = Screen.render(state, theme: .fallback).lines
        let title = "orders.DLT p\(row.partition)@\(row.offset)"
        XCTAssertTrue(lines[1].contains("orders.DLT · 15 dead letters") && lines[1].contains(title), lines[1])
        XCTAssertTrue(lines[1].contains("enter opens"), "the pane is not entered: \(lines[1])")
        XCTAssertTrue(lines.contains { $0.contains("Headers (") }, lines.joined(separator: "\n"))
        XCTAssertEqual(state.view, .deadLetterList(topic: "orders.DLT"), "drawing the pane changes nothing")
        XCTAssertTrue(state.backStack.count == 1)

        state.size = Size(width: 159, height: 40)
        let narrow = Screen.render(state, theme: .fallback).lines
        XCTAssertFalse(narrow[1].contains(title), narrow[1])
    }
}
