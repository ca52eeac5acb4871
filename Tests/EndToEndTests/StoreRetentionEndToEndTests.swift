import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// The embedded store's writers end cleanly and keep records within their retention.
final class StoreRetentionEndToEndTests: XCTestCase {
    /// `evtop demo --headless --duration N` checkpoints and closes its store: no `-wal` content is left.
    func testHeadlessDemoLeavesNoWALContentBehind() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("wal.db")
        let r = try runProcess(binary, ["demo", "--headless", "--store", store, "--duration", "2", "--rate", "100"], env: box.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let size = (try? FileManager.default.attributesOfItem(atPath: store + "-wal")[.size] as? Int) ?? 0
        XCTAssertEqual(size, 0, "the demo left \(size) bytes in \(store)-wal")
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: store)[.size] as? Int) ?? 0, 0)
    }

    /// `--record-max` caps every partition of the demo's store; the offsets and the group offsets go on.
    func testDemoKeepsEachPartitionWithinRecordMax() async throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("cap.db")
        let r = try runProcess(binary, ["demo", "--headless", "--store", store, "--duration", "3", "--rate", "200", "--otlp", "off",
                                        "--record-max", "50"], env: box.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let log = try SQLiteLog(path: store, mode: .readOnly)
        let snapshot = try await log.snapshot()
        let partitions = snapshot.topics.flatMap(\.partitions)
        XCTAssertFalse(partitions.isEmpty)
        XCTAssertTrue(partitions.contains { $0.low > 0 }, "nothing was deleted: \(snapshot.topics)")
        for t in snapshot.topics {
            for p in t.partitions {
                XCTAssertLessThanOrEqual(p.high - p.low, 50, "\(t.name)/\(p.partition): \(p)")
                let first = try await log.fetch(topic: t.name, partition: p.partition, from: 0, maxRecords: 1)
                XCTAssertEqual(first.first?.offset, p.high > p.low ? p.low : nil)
            }
        }
        // Offsets retention deleted are named as such, as Kafka's "offset out of range" would.
        let shipments = try XCTUnwrap(snapshot.topics.first { $0.name == "shipments" }?.partitions.first)
        let replay = try runProcess(binary, ["replay", "--broker", "sqlite:" + store, "--source-topic", "shipments", "--target-topic", "orders",
                                             "--from-offset", "0", "--limit", "1", "--dry-run"], env: box.environment)
        XCTAssertEqual(replay.status, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("retention deleted the older records: partition 0 starts at \(shipments.low)"), replay.stdout)
        let bad = try runProcess(binary, ["demo", "--headless", "--store", store, "--record-max", "lots"], env: box.environment)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--record-max takes a positive number"), bad.stderr)
    }
}

extension StoreRetentionEndToEndTests {
    /// SIGTERM (how scripts and service managers stop it) ends the headless demo cleanly too: its store is
    /// closed with no `-wal` content, and the process exits on its own.
    func testHeadlessDemoStoppedBySIGTERMLeavesNoWALContentBehind() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("term.db")
        let demo = try spawnProcess(binary, ["demo", "--headless", "--store", store, "--rate", "500"], env: box.environment)
        // Wait until it has written enough for the WAL to hold something.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: store + "-wal")[.size] as? Int) ?? 0) < 64 * 1024 {
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(demo.isRunning)
        demo.terminate()  // SIGTERM
        let stopBy = Date().addingTimeInterval(30)
        while demo.isRunning, Date() < stopBy { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(demo.isRunning, "the demo did not stop after SIGTERM")
        if demo.isRunning { kill(demo.processIdentifier, SIGKILL) }
        XCTAssertEqual(demo.terminationReason, .exit, "ended by a signal, not on its own")
        let size = (try? FileManager.default.attributesOfItem(atPath: store + "-wal")[.size] as? Int) ?? 0
        XCTAssertEqual(size, 0, "the demo left \(size) bytes in \(store)-wal")
    }
}
