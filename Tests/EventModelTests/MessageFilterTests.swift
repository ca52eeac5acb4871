import Foundation
import Synchronization
import XCTest
@testable import EventModel

final class MessageFilterTests: XCTestCase {
    private let rules = CorrelationRules.default

    private func record(key: String? = "k-1", headers: [RecordHeader] = [], value: String?) -> Record {
        Record(topic: "orders", partition: 0, offset: 7, timestampMillis: 1_000, key: key.map { Array($0.utf8) },
               headers: headers, value: value.map { Array($0.utf8) })
    }

    private func matches(_ filter: String, _ r: Record) throws -> Bool {
        try MessageFilter(filter).matches(r, extraction: rules.extract(r))
    }

    func testEachKindAndItsNegation() throws {
        let placed = record(key: "cust-42", headers: [RecordHeader("event-type", "OrderPlaced"), RecordHeader("correlation-id", "ord-1"),
                                                      RecordHeader("reason", "card declined")],
                            value: #"{"customer":{"id":42,"name":"Ada"},"amount":150.5,"paid":true,"note":null,"items":[{"sku":"A"}]}"#)
        let cases: [(String, Bool)] = [
            ("key=cust-42", true), ("key=cust-4", false),
            ("header:event-type=OrderPlaced", true), ("header:event-type=OrderPaid", false),
            ("header:reason=\"card declined\"", true), ("header:reason", true), ("header:missing", false),
            ("type=OrderPlaced", true), ("type=OrderPaid", false),
            ("cid=ord-1", true), ("cid=ord-2", false),
            ("/customer/id=42", true), ("/customer/id=42.0", true), ("/customer/id=43", false),
            ("/customer/name=Ada", true), ("/customer/name=ada", false),
            ("/amount>100", true), ("/amount>=150.5", true), ("/amount<100", false), ("/amount<=150.5", true),
            ("/amount!=150.5", false), ("/amount!=1", true),
            ("/paid=true", true), ("/paid=false", false), ("/note=null", true),
            ("/items/0/sku=A", true), ("/items/1/sku=A", false),
            ("/missing=1", false), ("/missing!=1", true),
            // Strings are not ordered as numbers.
            ("/customer/name>1", false),
        ]
        for (filter, expected) in cases {
            XCTAssertEqual(try matches(filter, placed), expected, filter)
            XCTAssertEqual(try matches("!" + filter, placed), !expected, "!" + filter)
        }
        // Every term must hold.
        XCTAssertTrue(try matches("key=cust-42 type=OrderPlaced /amount>100", placed))
        XCTAssertFalse(try matches("key=cust-42 !type=OrderPlaced", placed))
        XCTAssertTrue(try matches("", placed))
    }

    func testKeysAndValuesThatAreNotTextOrNotThere() throws {
        let binary = Record(topic: "t", partition: 0, offset: 0, timestampMillis: 0, key: [0xFF, 0x00, 0x1B],
                            headers: [RecordHeader(name: "bin", value: [0x00, 0xFF])], value: [0x00, 0x00, 0x00, 0x00, 0x2A, 0x01])
        XCTAssertFalse(try matches("key=x", binary))
        XCTAssertFalse(try matches("key=", binary))
        XCTAssertTrue(try matches("header:bin", binary))
        XCTAssertFalse(try matches("/a=1", binary))
        XCTAssertTrue(try matches("/a!=1", binary))
        let tombstone = record(key: nil, value: nil)
        XCTAssertTrue(try matches("key=", tombstone))
        XCTAssertFalse(try matches("/a=1", tombstone))
        XCTAssertFalse(try matches("type=OrderPlaced", tombstone))
    }

    func testTheQuickRefusalNeverRefusesAValueThatMatches() throws {
        // The literal spelled with a \u escape: the substring test must not refuse it.
        XCTAssertTrue(try matches("/name=Ada", record(value: #"{"name":"\u0041da"}"#)))
        XCTAssertFalse(try matches("/name=Ada", record(value: #"{"name":"Bob","other":"x"}"#)))
        XCTAssertTrue(try matches("/n=42", record(value: #"{"n":4.2e1}"#)))
    }

    func testWhatIsNotAFilterSaysWhy() {
        for bad in ["color=red", "header:", "header:=x", "type=", "cid=", "/a", "/a>x", "/a~b=1", "key=\"open"] {
            XCTAssertThrowsError(try MessageFilter(bad), bad) { error in
                XCTAssertTrue(String(describing: error).contains("filter term"), "\(error)")
            }
        }
        XCTAssertTrue(MessageFilter.isStructured("key=a !header:x /a/b>3 type=T cid=c"))
        XCTAssertFalse(MessageFilter.isStructured("OrderPlaced"))
        XCTAssertFalse(MessageFilter.isStructured("key=a timeout"))
        XCTAssertFalse(MessageFilter.isStructured("/"))
        XCTAssertFalse(MessageFilter.isStructured(""))
    }

    func testConfluentFraming() {
        let framed: [UInt8] = [0x00, 0x00, 0x00, 0x01, 0x2C] + Array(#"{"a":1}"#.utf8)
        let frame = ConfluentFrame(framed)
        XCTAssertEqual(frame?.schemaID, 300)
        XCTAssertEqual(frame.map { Array($0.payload) }, Array(#"{"a":1}"#.utf8))
        XCTAssertNil(ConfluentFrame(Array(#"{"a":1}"#.utf8)))
        XCTAssertNil(ConfluentFrame([0x00, 0x01]))
    }
}

final class SeekTargetTests: XCTestCase {
    // 2026-12-03 14:30:00 UTC.
    private let now = Date(timeIntervalSince1970: 1_796_308_200)

    private func parse(_ text: String, offset: Int = 0) throws -> SeekTarget {
        try SeekTarget.parse(text, now: now, utcOffsetSeconds: offset)
    }

    func testEveryFormOperatorsType() throws {
        let nowMs: Int64 = 1_796_308_200_000
        XCTAssertEqual(try parse("beginning"), .beginning)
        XCTAssertEqual(try parse(" end "), .end)
        XCTAssertEqual(try parse("1200"), .position(1200))
        XCTAssertEqual(try parse("-100"), .fromEnd(100))
        XCTAssertEqual(try parse("-15m"), .time(nowMs - 900_000))
        XCTAssertEqual(try parse("-2h"), .time(nowMs - 7_200_000))
        XCTAssertEqual(try parse("-30s"), .time(nowMs - 30_000))
        XCTAssertEqual(try parse("-1d"), .time(nowMs - 86_400_000))
        XCTAssertEqual(try parse("@1796299380000"), .time(1_796_299_380_000))
        // Clock times are local: at UTC+1 "12:03" is 11:03 UTC; one still ahead is yesterday's.
        XCTAssertEqual(try parse("12:03"), .time(1_796_299_380_000))
        XCTAssertEqual(try parse("12:03", offset: 3_600), .time(1_796_299_380_000 - 3_600_000))
        XCTAssertEqual(try parse("15:00:30"), .time(1_796_310_030_000 - 86_400_000))
        XCTAssertEqual(try parse("2026-12-03T12:03:00Z"), .time(1_796_299_380_000))
        XCTAssertEqual(try parse("2026-12-03 12:03"), .time(1_796_299_380_000))
        XCTAssertEqual(try parse("2026-12-03T13:03+01:00"), .time(1_796_299_380_000))
        XCTAssertEqual(try parse("2026-12-03T12:03:00.250Z"), .time(1_796_299_380_250))
        XCTAssertEqual(try parse("2026-12-03"), .time(1_796_256_000_000))
        XCTAssertEqual(try parse("2026-12-03", offset: -18_000), .time(1_796_256_000_000 + 18_000_000))
        XCTAssertEqual(try parse("-99999999999d"), .time(0), "further back than the epoch is the beginning")
        XCTAssertEqual(try parse("2028-02-29"), .time(1_835_395_200_000))
        for bad in ["", "yesterday", "+5", "-15x", "25:00", "12:60", "2026-13-01", "2026-12-03T12", "@-1", "12:03 pm", "2026-02-31", "2027-02-29",
                    "-9999999999999999999d"] {
            XCTAssertThrowsError(try parse(bad), bad) { XCTAssertTrue(String(describing: $0).contains("cannot seek"), "\($0)") }
        }
    }

    func testPositionsAreClampedToWhatThePartitionKeeps() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 1)
        try await log.produce((0..<10).map { OutgoingRecord(topic: "t", partition: 0, timestampMillis: Int64(1_000 * $0), value: [1]) })
        try await log.deleteRecords(topic: "t", partition: 0, before: 3)
        let w = try await log.watermarks(topic: "t").partitions[0]
        func at(_ target: SeekTarget) async throws -> Int64 { try await log.seekPosition(topic: "t", partition: w, to: target) }
        let beginning = try await at(.beginning), end = try await at(.end)
        XCTAssertEqual([beginning, end], [3, 10])
        let positions = [try await at(.position(1)), try await at(.position(5)), try await at(.position(99))]
        XCTAssertEqual(positions, [3, 5, 10])
        let back = [try await at(.fromEnd(4)), try await at(.fromEnd(40)), try await at(.fromEnd(Int64.max))]
        XCTAssertEqual(back, [6, 3, 3])
    }

    func testTimeSearchFindsTheFirstRecordAtOrAfterTheMoment() async throws {
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 1)
        // Timestamps 0, 1000, 1000, 3000, …: a repeated one and a gap.
        let stamps: [Int64] = [0, 1_000, 1_000, 3_000, 4_000, 5_000, 9_000]
        try await log.produce(stamps.map { OutgoingRecord(topic: "t", partition: 0, timestampMillis: $0, value: [1]) })
        let w = try await log.watermarks(topic: "t").partitions[0]
        for (moment, expected) in [(-5 as Int64, 0 as Int64), (0, 0), (1, 1), (1_000, 1), (1_001, 3), (2_999, 3), (9_000, 6), (9_001, 7)] {
            let found = try await log.seekPosition(topic: "t", partition: w, to: .time(moment))
            XCTAssertEqual(found, expected, "at \(moment) ms")
        }
    }
}

final class MessageReaderTests: XCTestCase {
    /// Three partitions, interleaved timestamps, every third record an OrderPaid.
    private func log() async throws -> InMemoryLog {
        let log = InMemoryLog()
        try await log.createTopic("orders", partitions: 3)
        var out: [OutgoingRecord] = []
        for n in 0..<300 {
            let type = n % 3 == 0 ? "OrderPaid" : "OrderPlaced"
            out.append(OutgoingRecord(topic: "orders", partition: Int32(n % 3 == 1 ? 1 : (n % 7 == 0 ? 2 : 0)), timestampMillis: Int64(n * 10),
                                      headers: [RecordHeader("event-type", type)], value: Array("{\"n\":\(n)}".utf8)))
        }
        try await log.produce(out)
        return log
    }

    private func n(_ r: Record) -> Int { Int(String(decoding: r.value ?? [], as: UTF8.self).dropFirst(5).dropLast()) ?? -1 }

    func testPagingBackFromTheEndReadsEveryRecordOnceNewestFirst() async throws {
        let reader = MessageReader(log: try await log(), rules: .default)
        var (positions, _) = try await reader.positions(topic: "orders", at: .end)
        var seen: [Int] = []
        var pages = 0
        while true {
            let page = try await reader.read(MessageRequest(topic: "orders", positions: positions, direction: .older, limit: 37))
            seen += page.records.map(n)
            positions = page.positions
            pages += 1
            if page.exhausted { break }
            XCTAssertEqual(page.records.count, 37)
            XCTAssertLessThan(pages, 20)
        }
        XCTAssertEqual(seen, Array((0..<300).reversed()))
    }

    func testATailReadKeepsTheNewestAndCountsWhatItPassesOver() async throws {
        let log = try await log()
        let reader = MessageReader(log: log, rules: .default)
        let zero: [Int32: LogPosition] = [0: 0, 1: 0, 2: 0]
        let page = try await reader.read(MessageRequest(topic: "orders", positions: zero, direction: .newer, limit: 10, tail: true))
        XCTAssertEqual(page.records.map(n), Array(290..<300), "the newest ten, oldest first")
        XCTAssertEqual(page.skipped, 290, "every record before them, counted once")
        XCTAssertFalse(page.skippedIsUpperBound, "this log's positions are its records: the count is exact")
        XCTAssertTrue(page.exhausted)
        let highs = try await log.watermarks(topic: "orders").partitions.reduce(into: [Int32: LogPosition]()) { $0[$1.partition] = $1.high }
        XCTAssertEqual(page.positions, highs)
        // Only what arrived since, nothing passed over.
        try await log.produce((300..<305).map { n in
            OutgoingRecord(topic: "orders", partition: Int32(n % 3), timestampMillis: Int64(n * 10), value: Array("{\"n\":\(n)}".utf8))
        })
        let next = try await reader.read(MessageRequest(topic: "orders", positions: page.positions, direction: .newer, limit: 10, tail: true))
        XCTAssertEqual(next.records.map(n), Array(300..<305))
        XCTAssertEqual(next.skipped, 0)
        // With a filter every new record is read (no match is jumped over); the newest matches are kept.
        let paid = try await reader.read(MessageRequest(topic: "orders", positions: zero, direction: .newer, limit: 5,
                                                        filter: try MessageFilter("type=OrderPaid"), tail: true))
        XCTAssertEqual(paid.records.map(n), [285, 288, 291, 294, 297])
        XCTAssertEqual(paid.skipped, 95, "the other matches, passed over")
        XCTAssertEqual(paid.scanned, 305)
    }

    func testReadingForwardFromATimeWithAFilterFindsExactlyTheMatches() async throws {
        let reader = MessageReader(log: try await log(), rules: .default)
        var (positions, _) = try await reader.positions(topic: "orders", at: .time(1_000))
        let filter = try MessageFilter("type=OrderPaid")
        var seen: [Int] = []
        var scanned = 0
        while true {
            let page = try await reader.read(MessageRequest(topic: "orders", positions: positions, direction: .newer, limit: 10, filter: filter))
            seen += page.records.map(n)
            scanned += page.scanned
            positions = page.positions
            if page.exhausted { break }
        }
        XCTAssertEqual(seen, (100..<300).filter { $0 % 3 == 0 })
        // Pages re-read what one partition found beyond what the merge kept; never less than the range.
        XCTAssertGreaterThanOrEqual(scanned, 200)
        // The negation reads the rest.
        (positions, _) = try await reader.positions(topic: "orders", at: .time(1_000))
        let rest = try await reader.read(MessageRequest(topic: "orders", positions: positions, direction: .newer, limit: 1_000,
                                                        filter: try MessageFilter("!type=OrderPaid")))
        XCTAssertEqual(rest.records.map(n), (100..<300).filter { $0 % 3 != 0 })
        XCTAssertTrue(rest.exhausted)
    }

    func testProducersWhoseClocksDisagreeLoseNoRecordAcrossPages() async throws {
        // Within each partition the timestamps go back and forth (two producers, two clocks); the low
        // watermark is above 0 and one partition is empty.
        let log = InMemoryLog()
        try await log.createTopic("t", partitions: 3)
        var out: [OutgoingRecord] = []
        for n in 0..<120 {
            let skew: Int64 = n % 2 == 0 ? 0 : 5_000
            out.append(OutgoingRecord(topic: "t", partition: Int32(n % 2), timestampMillis: 1_000 * Int64(n) + skew, value: Array("{\"n\":\(n)}".utf8)))
        }
        try await log.produce(out)
        try await log.deleteRecords(topic: "t", partition: 0, before: 4)
        let reader = MessageReader(log: log, rules: .default)
        let everything = Set((0..<120).filter { !($0 % 2 == 0 && $0 / 2 < 4) })
        for direction in [MessageDirection.newer, .older] {
            var (positions, _) = try await reader.positions(topic: "t", at: direction == .newer ? .beginning : .end)
            var seen: [Int] = []
            for _ in 0..<100 {
                let page = try await reader.read(MessageRequest(topic: "t", positions: positions, direction: direction, limit: 7))
                seen += page.records.map(n)
                positions = page.positions
                if page.exhausted { break }
            }
            XCTAssertEqual(seen.count, everything.count, "\(direction): every record once")
            XCTAssertEqual(Set(seen), everything, "\(direction)")
        }
    }

    func testAFilterThatMatchesLittleStopsAtItsBudgetAndGoesOnFromThere() async throws {
        let reader = MessageReader(log: try await log(), rules: .default)
        var (positions, _) = try await reader.positions(topic: "orders", partitions: [0], at: .end)
        let filter = try MessageFilter("/n=8")
        let first = try await reader.read(MessageRequest(topic: "orders", positions: positions, direction: .older, limit: 5, filter: filter, scanBudget: 50))
        XCTAssertTrue(first.stoppedEarly)
        XCTAssertFalse(first.exhausted)
        XCTAssertEqual(first.scanned, 50)
        XCTAssertTrue(first.records.isEmpty)
        positions = first.positions
        var found: [Int] = []
        for _ in 0..<10 {
            let page = try await reader.read(MessageRequest(topic: "orders", positions: positions, direction: .older, limit: 5, filter: filter, scanBudget: 50))
            found += page.records.map(n)
            positions = page.positions
            if page.exhausted { break }
        }
        XCTAssertEqual(found, [8])
        // A partition that does not exist is an error, not an empty page.
        do {
            _ = try await reader.positions(topic: "orders", partitions: [9], at: .end)
            XCTFail("partition 9 was read")
        } catch {
            XCTAssertTrue(String(describing: error).contains("partition 9"), "\(error)")
        }
    }
}

/// A log that counts its reads and, at the read numbered `cancelAt`, cancels the task reading (as the
/// messages view's stop does, between batches).
private final class CancellingLog: LogReader {
    let log: InMemoryLog
    let cancelAt: Int
    let reads = Mutex(0)

    init(_ log: InMemoryLog, cancelAt: Int) {
        self.log = log
        self.cancelAt = cancelAt
    }

    var sourceDescription: String { "memory:" }
    func snapshot() async throws -> BrokerSnapshot { try await log.snapshot() }
    func watermarks(topic: String) async throws -> TopicInfo { try await log.watermarks(topic: topic) }
    func identity() async -> SourceIdentity? { await log.identity() }
    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> (records: [Record], next: LogPosition) {
        let n = reads.withLock { $0 += 1; return $0 }
        if n == cancelAt { withUnsafeCurrentTask { $0?.cancel() } }
        return try await log.read(topic: topic, partition: partition, from: position, maxRecords: maxRecords)
    }
}

final class MessageReaderCancellationTests: XCTestCase {
    private func log() async throws -> InMemoryLog {
        let log = InMemoryLog()
        try await log.createTopic("orders", partitions: 2)
        try await log.produce((0..<4_000).map { n in
            OutgoingRecord(topic: "orders", partition: Int32(n % 2), timestampMillis: Int64(n), headers: [RecordHeader("event-type", "OrderPlaced")],
                           value: Array("{\"n\":\(n)}".utf8))
        })
        return log
    }

    /// A filter that matches nothing scans both ways batch after batch; cancelled at its second read, it reads no
    /// further batch, in this partition or the next, and says it stopped early.
    func testAScanCancelledStopsBetweenBatchesBothWays() async throws {
        let memory = try await log()
        let filter = try MessageFilter("type=Nothing")
        for (direction, start) in [(MessageDirection.newer, LogPosition(0)), (.older, 2_000)] {
            var uncancelled = MessageReader(log: CancellingLog(memory, cancelAt: .max), rules: .default)
            uncancelled.batch = 100
            let full = try await uncancelled.read(MessageRequest(topic: "orders", positions: [0: start, 1: start], direction: direction, limit: 10,
                                                                 filter: filter, scanBudget: .max))
            XCTAssertEqual(full.scanned, 4_000, "\(direction): without a stop the scan reads every record")
            XCTAssertFalse(full.stoppedEarly)

            let counting = CancellingLog(memory, cancelAt: 2)
            var reader = MessageReader(log: counting, rules: .default)
            reader.batch = 100
            let page = try await Task {
                try await reader.read(MessageRequest(topic: "orders", positions: [0: start, 1: start], direction: direction, limit: 10,
                                                     filter: filter, scanBudget: .max))
            }.value
            XCTAssertTrue(page.stoppedEarly, "\(direction)")
            XCTAssertEqual(page.scanned, 200, "\(direction): the two batches read before the stop")
            XCTAssertEqual(counting.reads.withLock { $0 }, 2, "\(direction)")
            XCTAssertFalse(page.exhausted)
        }
    }
}
