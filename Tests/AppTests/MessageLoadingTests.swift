import XCTest
import Foundation
import Synchronization
import EventModel
import Dashboard
@testable import App

/// A log whose first read waits until the test lets it go, counting reads: a read under way, held still.
private final class HeldLog: LogReader {
    let log: InMemoryLog
    let reads = Mutex(0)
    let released = Mutex(false)

    init(_ log: InMemoryLog) { self.log = log }

    var sourceDescription: String { "memory:" }
    func snapshot() async throws -> BrokerSnapshot { try await log.snapshot() }
    func watermarks(topic: String) async throws -> TopicInfo { try await log.watermarks(topic: topic) }
    func identity() async -> SourceIdentity? { await log.identity() }
    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> (records: [Record], next: LogPosition) {
        reads.withLock { $0 += 1 }
        while !released.withLock({ $0 }) { await Task.yield() }
        return try await log.read(topic: topic, partition: partition, from: position, maxRecords: maxRecords)
    }
}

/// The messages view's reads in the performer: one under way, stopped when the view asks.
final class MessageLoadingTests: XCTestCase {
    private func log() async throws -> InMemoryLog {
        let log = InMemoryLog()
        try await log.createTopic("orders", partitions: 2)
        try await log.produce((0..<20_000).map { n in
            OutgoingRecord(topic: "orders", partition: Int32(n % 2), timestampMillis: Int64(n), headers: [], value: Array("{\"n\":\(n)}".utf8))
        })
        return log
    }

    /// A structured filter's scan (matching nothing, 50,000 records a page): stopped while its first batch is
    /// read, it reads no further batch and posts nothing; left alone, the same scan reads on and posts its page.
    func testAStoppedScanReadsNoFurtherBatchAndPostsNothing() async throws {
        let memory = try await log()
        let request = MessageRequest(topic: "orders", positions: [0: 0, 1: 0], direction: .newer, limit: 200,
                                     filter: try MessageFilter("key=nothing-like-this"), scanBudget: MessagesModel.scanBudget, serial: 7)
        for stopping in [false, true] {
            let held = HeldLog(memory)
            let mailbox = ActionMailbox()
            let loading = MessageLoading()
            let task = loading.start(MessageRead(request: request), log: held, rules: .default, mailbox: mailbox)
            while held.reads.withLock({ $0 }) == 0 { await Task.yield() }
            if stopping {
                loading.stop(serial: 6)  // another serial's stop leaves it alone
                loading.stop(serial: 7)
            }
            held.released.withLock { $0 = true }
            await task.value
            let posted = mailbox.drain()
            if stopping {
                XCTAssertEqual(held.reads.withLock { $0 }, 1, "the batch under way, then no other")
                XCTAssertEqual(posted.count, 0)
            } else {
                XCTAssertEqual(held.reads.withLock { $0 }, 40, "20,000 records in batches of 500")
                guard case .messagesRead(let page)? = posted.first else { return XCTFail("the page is posted: \(posted)") }
                XCTAssertEqual(page.serial, 7)
                XCTAssertEqual(page.scanned, 20_000)
                XCTAssertEqual(page.rows.count, 0)
            }
        }
    }

    /// A read of a new serial (a window started over) cancels the one still under way.
    func testANewReadCancelsTheOneOfAnotherSerial() async throws {
        let memory = try await log()
        let held = HeldLog(memory)
        let mailbox = ActionMailbox()
        let loading = MessageLoading()
        var old = MessageRequest(topic: "orders", positions: [0: 0, 1: 0], direction: .newer, limit: 200,
                                 filter: try MessageFilter("key=nothing-like-this"), scanBudget: MessagesModel.scanBudget, serial: 3)
        let first = loading.start(MessageRead(request: old), log: held, rules: .default, mailbox: mailbox)
        while held.reads.withLock({ $0 }) == 0 { await Task.yield() }
        old.serial = 5
        old.filter = nil
        let second = loading.start(MessageRead(request: old), log: held, rules: .default, mailbox: mailbox)
        held.released.withLock { $0 = true }
        await first.value
        await second.value
        let serials = mailbox.drain().compactMap { action -> Int? in
            if case .messagesRead(let page) = action { return page.serial }
            return nil
        }
        XCTAssertEqual(serials, [5])
    }
}
