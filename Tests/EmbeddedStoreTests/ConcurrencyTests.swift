import EmbeddedStore
import EventModel
import Foundation
import XCTest

final class ConcurrencyTests: StoreTestCase {
    /// One instance appends in a loop while a second (read-only) instance takes snapshots and fetches.
    func testWriterAndReaderInstancesOnOneFile() async throws {
        let p = path()
        let writer = try SQLiteLog(path: p)
        try await writer.createTopic("load", partitions: 3)
        let reader = try SQLiteLog(path: p, mode: .readOnly)
        let batches = 40, perBatch = 50

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for b in 0..<batches {
                    let batch = (0..<perBatch).map {
                        OutgoingRecord(topic: "load", timestampMillis: Int64(b), key: Array("k\($0 % 7)".utf8),
                                       value: Array(repeating: UInt8(b), count: 64))
                    }
                    try await writer.produce(batch)
                    try await writer.commit(group: "g", member: "w",
                                            offsets: [TopicPartition("load", 0): Int64(b)])
                }
            }
            group.addTask {
                var last: [Int32: Int64] = [:]
                var lastCommitted: Int64 = -1
                var done = false
                while !done {
                    let snap = try await reader.snapshot()
                    let partitions = snap.topics.first?.partitions ?? []
                    for wm in partitions {
                        XCTAssertGreaterThanOrEqual(wm.high, last[wm.partition] ?? 0, "watermark went back")
                        last[wm.partition] = wm.high
                        let records = try await reader.fetch(topic: "load", partition: wm.partition,
                                                             from: max(0, wm.high - 20), maxRecords: 20)
                        // Everything below the snapshot's high watermark is there, contiguous.
                        XCTAssertEqual(records.prefix(Int(min(20, wm.high))).map(\.offset),
                                       Array(max(0, wm.high - 20)..<wm.high))
                    }
                    if let committed = snap.groups.first?.offsets[TopicPartition("load", 0)] {
                        XCTAssertGreaterThanOrEqual(committed, lastCommitted)
                        lastCommitted = committed
                    }
                    done = last.values.reduce(0, +) == Int64(batches * perBatch)
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try reader.recordCount(), Int64(batches * perBatch))
    }

    /// Two writer instances appending concurrently to one partition serialize without gaps or duplicates.
    func testTwoWritersSerialize() async throws {
        let p = path()
        let a = try SQLiteLog(path: p)
        try await a.createTopic("w", partitions: 1)
        let b = try SQLiteLog(path: p)
        let positions = try await withThrowingTaskGroup(of: [RecordPosition].self) { group in
            for log in [a, b] {
                group.addTask {
                    var all: [RecordPosition] = []
                    for _ in 0..<30 {
                        all += try await log.produce((0..<10).map { _ in
                            OutgoingRecord(topic: "w", partition: 0, timestampMillis: 0, value: [1])
                        })
                    }
                    return all
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(positions.map(\.offset).sorted(), Array(0..<600))
    }

    /// Another PROCESS (Python's sqlite3) repeatedly holds the write lock for ~300 ms while we produce:
    /// every produce waits for the lock (busy timeout) and succeeds, and that process sees our records.
    func testCrossProcessWriteLockIsWaitedFor() async throws {
        let p = path()
        let log = try SQLiteLog(path: p)
        try await log.createTopic("x", partitions: 2)

        let script = """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
            for i in range(int(sys.argv[2])):
                c.execute("BEGIN IMMEDIATE")
                c.execute("UPDATE evtop_meta SET value = value WHERE key = 'format'")
                if i == 0:
                    print("locked", flush=True)
                time.sleep(0.3)
                c.execute("COMMIT")
                time.sleep(0.02)
            print("released", flush=True)
            sys.stdin.readline()
            print("records", c.execute("SELECT COUNT(*) FROM records").fetchone()[0], flush=True)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, p, "4"]
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let lines = LineReader(stdout.fileHandleForReading)
        XCTAssertEqual(lines.readLine(), "locked")

        // The lock is held right now: this produce has to wait for it.
        var produced = 0
        for i in 0..<12 {
            let positions = try await log.produce((0..<100).map { j in
                OutgoingRecord(topic: "x", timestampMillis: Int64(i), key: Array("\(i)-\(j)".utf8), value: [UInt8(i)])
            })
            produced += positions.count
        }
        try await log.heartbeat(group: "g", member: "m")
        XCTAssertEqual(lines.readLine(), "released")
        stdin.fileHandleForWriting.write(Data("count\n".utf8))
        XCTAssertEqual(lines.readLine(), "records \(produced)")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(try log.recordCount(), 1200)
    }

    /// Informal throughput figure (printed, never asserted): batches of 500 records.
    func testProduceThroughputIsPrinted() async throws {
        let log = try SQLiteLog(path: path())
        try await log.createTopic("bench", partitions: 4)
        let batches = 20
        let template = (0..<500).map { i in
            OutgoingRecord(topic: "bench", timestampMillis: 1_700_000_000_000 + Int64(i),
                           key: Array("order-\(i)".utf8), headers: [RecordHeader("correlation-id", "ord-\(i)")],
                           value: Array(repeating: UInt8(ascii: "x"), count: 200))
        }
        let start = Date()
        for _ in 0..<batches { try await log.produce(template) }
        let elapsed = Date().timeIntervalSince(start)
        let count = batches * template.count
        print("SQLiteLog produce: \(count) records in \(String(format: "%.3f", elapsed)) s = "
              + "\(Int(Double(count) / elapsed)) records/s (batches of 500, 200-byte values)")
        XCTAssertEqual(try log.recordCount(), Int64(count))
    }
}
