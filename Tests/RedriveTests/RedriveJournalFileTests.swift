import EmbeddedStore
import EventModel
import Foundation
import GRDB
@testable import Redrive
import SQLiteSupport
import XCTest

/// How the journal reports what goes wrong with its file: a full disk, a read-only open, a file that is no journal.
final class RedriveJournalFileTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    private func job(_ id: String) -> RedriveJobRecord {
        RedriveJobRecord(id: id, kind: "redrive", source: "sqlite:/x", sourceTopic: "orders.DLT", selection: "all",
                         targetOverride: nil, ratePerSecond: nil, user: "op", host: "h", createdAtMillis: 1,
                         finishedAtMillis: nil, state: RedriveJobState.running.rawValue, selected: 0, moved: 0, skipped: 0, failed: 0)
    }

    private func items(_ count: Int) -> [(redriveID: String, source: RecordPosition)] {
        (0..<count).map { i in
            let position = RecordPosition(topic: "orders.DLT", partition: 0, offset: Int64(i))
            return (RedriveRules.redriveID(position, timestampMillis: 1_700_000_000_000 + Int64(i)), position)
        }
    }

    func testAFullDiskLeavesTheJournalUnavailableSayingSoAndRecordsNothing() throws {
        let p = dir.appendingPathComponent("journal.db").path
        let journal = try RedriveJournal(path: p)
        try journal.file.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages + 2)")
        }
        XCTAssertThrowsError(try journal.createJob(job("rd-full"), items: items(20_000), pid: 1)) { error in
            XCTAssertEqual(error as? JournalError, .unavailable(p, SQLiteFailure.diskFull(path: p).reason))
            XCTAssertTrue("\(error)".contains("the disk holding it is full"), "\(error)")
        }
        XCTAssertNil(try journal.job("rd-full"), "the job and its items are written together or not at all")
    }

    func testAReadOnlyJournalRefusesWrites() throws {
        let p = dir.appendingPathComponent("journal.db").path
        _ = try RedriveJournal(path: p)
        let readOnly = try RedriveJournal(path: p, readOnly: true)
        XCTAssertThrowsError(try readOnly.heartbeat("rd-1", nowMillis: 1)) { error in
            XCTAssertEqual(error as? JournalError, .unavailable(p, SQLiteFailure.readOnly(path: p).reason))
        }
        XCTAssertEqual(try readOnly.jobs(limit: 10), [])
    }

    func testAFileThatIsNoDatabaseIsNotAJournal() throws {
        let p = dir.appendingPathComponent("garbage.db").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try RedriveJournal(path: p)) { error in
            guard case .notAJournal(p, let why)? = error as? JournalError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("not a SQLite database"), why)
        }
    }

    func testAValueOfTheWrongTypeMakesTheFileNotAJournalInsteadOfStoppingTheProcess() throws {
        let p = dir.appendingPathComponent("journal.db").path
        let journal = try RedriveJournal(path: p)
        _ = try journal.createJob(job("rd-1"), items: items(2), pid: 1)
        try journal.file.pool.writeWithoutTransaction { db in
            try db.execute(sql: "UPDATE jobs SET created_at = 'yesterday'")
            try db.execute(sql: "UPDATE items SET src_offset = X'00'")
        }
        XCTAssertThrowsError(try journal.jobs(limit: 10)) { error in
            guard case .notAJournal(p, let why)? = error as? JournalError else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("created_at"), why)
        }
        XCTAssertThrowsError(try journal.queued("rd-1", limit: 10)) { error in
            guard case .notAJournal(p, _)? = error as? JournalError else { return XCTFail("\(error)") }
        }
    }

    func testJobStatesAreTheEnumsRawValues() throws {
        let journal = try RedriveJournal(path: dir.appendingPathComponent("journal.db").path)
        _ = try journal.createJob(job("rd-1"), items: items(2), pid: 1)
        XCTAssertEqual(try journal.job("rd-1")?.state, RedriveJobState.running.rawValue)
        XCTAssertEqual(try journal.counts("rd-1"), [.queued: 2])
        try journal.finish("rd-1", cancelled: true, nowMillis: 5)
        let cancelled = try journal.job("rd-1")
        XCTAssertEqual(cancelled?.state, RedriveJobState.cancelled.rawValue)
        XCTAssertEqual(cancelled?.finishedAtMillis, 5)
        XCTAssertEqual(try journal.counts("rd-1"), [:], "a cancelled job gives its queued messages back")

        _ = try journal.createJob(job("rd-2"), items: items(1), pid: 1)
        let queued = try journal.queued("rd-2", limit: 10)
        XCTAssertEqual(queued.map(\.state), [.queued])
        let id = try XCTUnwrap(queued.first?.redriveID)
        try journal.finish("rd-2", cancelled: false, nowMillis: 6)
        XCTAssertEqual(try journal.job("rd-2")?.state, RedriveJobState.running.rawValue, "work left: still running")
        XCTAssertNil(try journal.job("rd-2")?.finishedAtMillis)
        _ = try journal.recordIntents([.init(redriveID: id, topic: "orders", partition: 0, searchFrom: 0)], jobID: "rd-2", nowMillis: 7)
        XCTAssertEqual(try journal.intents("rd-2").map(\.state), [.inFlight])
        try journal.markDone([(id, 3)], nowMillis: 8)
        try journal.finish("rd-2", cancelled: false, nowMillis: 9)
        let done = try journal.job("rd-2")
        XCTAssertEqual(done?.state, RedriveJobState.completed.rawValue)
        XCTAssertEqual(done?.moved, 1)
        XCTAssertEqual(done?.finishedAtMillis, 9)
    }
}
