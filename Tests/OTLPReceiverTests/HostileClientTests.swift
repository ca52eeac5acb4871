import EmbeddedStore
import EventModel
import Foundation
@testable import OTLPReceiver
import XCTest

#if os(Linux)
/// Slow, greedy and hoarding clients against the real receiver over real loopback sockets (issue 16 items 4
/// and 5). 127.0.0.2 plays a hostile machine, 127.0.0.1 an honest exporter. The receiver runs with its
/// default limits: 256 slots, 64 per client address, headers within 10 s, 64 MiB of bodies buffered.
final class HostileClientTests: ReceiverTestCase {
    /// The default share of slots one client address may hold.
    static let perAddress = 64

    /// One honest export from 127.0.0.1; nil when the receiver closed the connection without an answer.
    func honestExport(_ n: Int = 1) async -> Reply? {
        guard let body = try? OTLPConversion.encodeRequest([span(n)]) else { return nil }
        return try? await post(body)
    }

    /// Waits until every one of `count` connections has been either admitted or refused.
    func waitUntilAccepted(_ count: Int) async throws {
        let settled = try await eventuallyValue { () -> Bool? in
            guard let s = self.receiver?.stats else { return nil }
            return s.openConnections + s.refusedConnections >= count ? true : nil
        }
        XCTAssertEqual(settled, true, "the receiver did not take all \(count) connections")
    }

    /// Issue 16 item 4: 300 connections from one address, each sending one header byte, took all 256 slots
    /// and honest exports were closed unanswered. Now that address gets its share and the rest a 503.
    func testSlowlorisFromOneAddressCannotStarveAnother() async throws {
        try await startReceiver()
        var slow: [RawConnection] = []
        for _ in 0..<300 {
            let c = try RawConnection(port: port, from: "127.0.0.2")
            c.send("P")
            slow.append(c)
        }
        try await waitUntilAccepted(300)
        let reply = await honestExport()
        XCTAssertEqual(reply?.status, 200, "an export from another address was not served while 127.0.0.2 held its slots")
        // A connection beyond the share is told why, in HTTP, before it is closed.
        let refused = try XCTUnwrap(slow.last).readAll(timeoutMillis: 10_000)
        XCTAssertTrue(refused.text.hasPrefix("HTTP/1.1 503"), "refused without an answer: '\(refused.text.prefix(80))'")
        XCTAssertTrue(refused.text.lowercased().contains("retry-after: "), refused.text)
        XCTAssertTrue(refused.closed)
        slow.forEach { $0.close() }
        let awaited = try await store.spanCount()
        XCTAssertEqual(awaited, 1)
    }

    /// Issue 16 item 4: one address may hold at most its share of the slots; another address still gets its own.
    func testPerAddressShareOfTheSlotsHolds() async throws {
        try await startReceiver()
        let greedy = try (0..<100).map { _ in try RawConnection(port: port, from: "127.0.0.2") }
        try await waitUntilAccepted(100)
        XCTAssertEqual(receiver?.stats.openConnections, Self.perAddress, "127.0.0.2 holds more than its share")
        let other = try (0..<10).map { _ in try RawConnection(port: port, from: "127.0.0.3") }
        try await waitUntilAccepted(110)
        XCTAssertEqual(receiver?.stats.openConnections, Self.perAddress + 10, "127.0.0.3 did not get its own slots")
        greedy.forEach { $0.close() }
        other.forEach { $0.close() }
        let freed = try await eventuallyValue { self.receiver?.stats.openConnections == 0 ? true : nil }
        XCTAssertEqual(freed, true)
    }

    /// Issue 16 item 4: headers trickled one byte at a time no longer keep a connection forever (the idle
    /// timeout reset on every byte): the whole head must arrive within 10 s. Generous bound: 30 s.
    func testTricklingHeadersAreCutAtTheDeadline() async throws {
        try await startReceiver()
        let slow = try RawConnection(port: port, from: "127.0.0.2")
        let head = Array("POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: " + String(repeating: "a", count: 200))
        var answer = "", closed = false
        for byte in head.prefix(60) where !closed {
            if !slow.send(String(byte)) { closed = true; break }
            let r = slow.readAll(timeoutMillis: 500)
            answer += r.text
            closed = r.closed
        }
        XCTAssertTrue(closed, "a client trickling its headers kept the connection for 30 s")
        XCTAssertTrue(answer.isEmpty || answer.hasPrefix("HTTP/1.1 408"), answer)
        let freed = try await eventuallyValue { self.receiver?.stats.openConnections == 0 ? true : nil }
        XCTAssertEqual(freed, true)
        let reply = await honestExport()
        XCTAssertEqual(reply?.status, 200)
    }

    /// Issue 16 item 5: four clients each declaring a 16 MiB body fill the 64 MiB buffer budget; the next
    /// export is refused with 503 + Retry-After (not buffered), and served again once they have gone.
    func testBufferBudgetRefusesWith503AndServesAgain() async throws {
        try await startReceiver()
        var holders: [RawConnection] = []
        for _ in 0..<4 {
            let c = try RawConnection(port: port, from: "127.0.0.2")
            c.send("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                   + "Content-Length: \(16 << 20)\r\n\r\n")
            c.send([UInt8](repeating: 0x0a, count: 64 * 1024))
            holders.append(c)
        }
        let refused = try await eventuallyValue { () -> Reply? in
            guard let r = await self.honestExport(), r.status == 503 else { return nil }
            return r
        }
        let reply = try XCTUnwrap(refused, "no 503 while 64 MiB of bodies were held")
        XCTAssertNotNil(reply.headers["retry-after"])
        let status = try Google_Rpc_Status(serializedBytes: Array(reply.body))
        XCTAssertEqual(status.code, 14)
        XCTAssertTrue(status.message.contains("buffer"), status.message)
        holders.forEach { $0.close() }
        let served = try await eventuallyValue { () -> Int? in
            let r = await self.honestExport(2)
            return r?.status == 200 ? 200 : nil
        }
        XCTAssertEqual(served, 200, "not served again after the holders went")
    }
}
#endif
