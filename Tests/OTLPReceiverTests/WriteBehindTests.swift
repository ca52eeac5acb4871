import EmbeddedStore
import EventModel
import Foundation
@testable import OTLPReceiver
import Synchronization
import XCTest

/// A request is answered once its spans are queued for the writer, within the write-behind window;
/// beyond it, and while the store fails, once they are committed. Nothing acknowledged is dropped silently.
final class WriteBehindTests: ReceiverTestCase {
    func testAnsweredBeforeTheCommitWithinTheWindowAndWrittenBeforeStopReturns() async throws {
        try await startReceiver(OTLPReceiverLimits(retentionAge: nil, retentionMaxSpans: nil, writeBehindSpans: 3))
        let (release, lock) = try holdWriteLock()
        let receiverPort = port
        // Two spans fit the window: answered while the store cannot be written.
        let early = try await ReceiverTestCase.post(port: receiverPort, try OTLPConversion.encodeRequest([span(1), span(2)]))
        XCTAssertEqual(early.status, 200, early.text)
        let storedWhileLocked = try await store.spanCount()
        XCTAssertEqual(storedWhileLocked, 0, "answered before the commit")
        XCTAssertEqual(receiver?.stats.pendingSpans, 2)

        // Two more would take the window past 3: this request waits for its own commit.
        let answered = Mutex(false)
        let secondBody = try OTLPConversion.encodeRequest([span(3), span(4)])
        let second = Task {
            let reply = try await ReceiverTestCase.post(port: receiverPort, secondBody)
            answered.withLock { $0 = true }
            return reply
        }
        for _ in 0..<3_000 where receiver?.stats.pendingSpans != 4 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(receiver?.stats.pendingSpans, 4, "the second request was admitted")
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertFalse(answered.withLock { $0 }, "beyond the window, a request is answered after its commit")

        release()
        let reply = try await second.value
        XCTAssertEqual(reply.status, 200, reply.text)
        lock.waitUntilExit()
        await receiver?.flush()
        let stored = try await store.spanCount()
        XCTAssertEqual(stored, 4)

        // Stopping writes what was answered before it returns, once the store can be written.
        let (releaseAgain, lockAgain) = try holdWriteLock()
        let last = try await ReceiverTestCase.post(port: receiverPort, try OTLPConversion.encodeRequest([span(5)]))
        XCTAssertEqual(last.status, 200, last.text)
        let receiver = try XCTUnwrap(self.receiver)
        let stopped = Task { await receiver.stop() }
        releaseAgain()
        await stopped.value
        lockAgain.waitUntilExit()
        let storedAtStop = try await store.spanCount()
        XCTAssertEqual(storedAtStop, 5)
        XCTAssertEqual(receiver.stats.spansStored, 5)
        XCTAssertEqual(receiver.stats.pendingSpans, 0)
        XCTAssertEqual(receiver.stats.spansLost, 0)
    }

    func testAFailedCommitAfterTheAnswerIsCountedAndTheNextRequestHearsOfIt() async throws {
        let failing = FailingStore(store)
        let r = OTLPReceiver(host: "127.0.0.1", port: 0, store: failing, limits: ReceiverTestCase.noRetention)
        port = try await r.start()
        receiver = r
        failing.fail(true)
        let acknowledged = try await ReceiverTestCase.post(port: port, try OTLPConversion.encodeRequest([span(1), span(2), span(3)]))
        XCTAssertEqual(acknowledged.status, 200, "queued within the window")
        await r.flush()
        XCTAssertEqual(r.stats.spansLost, 3)
        XCTAssertTrue(r.stats.lastError?.contains("3 spans were acknowledged; they are lost") == true, r.stats.lastError ?? "no error")
        XCTAssertEqual(r.stats.pendingSpans, 0)

        // While the store fails, a request waits for its own commit and is told it failed.
        let refused = try await ReceiverTestCase.post(port: port, try OTLPConversion.encodeRequest([span(4)]))
        XCTAssertEqual(refused.status, 500, refused.text)
        XCTAssertEqual(r.stats.spansLost, 3, "a request that heard of its failure lost nothing silently")

        // The store comes back: the first request to commit clears the failure, and answers go early again.
        failing.fail(false)
        let back = try await ReceiverTestCase.post(port: port, try OTLPConversion.encodeRequest([span(5)]))
        XCTAssertEqual(back.status, 200, back.text)
        let after = try await ReceiverTestCase.post(port: port, try OTLPConversion.encodeRequest([span(6)]))
        XCTAssertEqual(after.status, 200, after.text)
        await r.flush()
        let names = Set(try await store.spans(traceID: "0af7651916cd43dd8448eb211c80319c").map(\.name))
        XCTAssertEqual(names, ["span 5", "span 6"])
        XCTAssertEqual(r.stats.spansStored, 2)
    }
}

/// A real SQLite store whose writes can be made to fail, as a full disk or a broken file would.
final class FailingStore: SpanStore, Sendable {
    struct Broken: Error, CustomStringConvertible { var description: String { "disk I/O error" } }
    let base: SQLiteLog
    private let failing = Mutex(false)
    init(_ base: SQLiteLog) { self.base = base }
    func fail(_ on: Bool) { failing.withLock { $0 = on } }
    func insertSpans(_ spans: [Span]) async throws -> Int {
        if failing.withLock({ $0 }) { throw Broken() }
        return try await base.insertSpans(spans)
    }
    func spans(correlationID id: String, limit: Int) async throws -> [Span] { try await base.spans(correlationID: id, limit: limit) }
    func spans(traceID: String) async throws -> [Span] { try await base.spans(traceID: traceID) }
    func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int {
        try await base.pruneSpans(olderThanUnixNano: cutoffUnixNano, maxSpans: maxSpans)
    }
}
