import EventModel
import Redrive
@testable import RabbitMQLog
import Foundation
import XCTest

/// Redrive out of a RabbitMQ dead-letter queue, against the suite's real node: letters that pika rejected
/// (so RabbitMQ wrote their `x-death`) go back to the queue they died in, acked on the DLQ only after the
/// publish is confirmed; pika counts what arrived.
extension RabbitMQEndToEndTests {
    struct Tally: Decodable {
        var count: Int
        var copies: [String: Int]
        var order: [String]
        var redriveIds: [String?]
        var withDeath: Int
    }

    func tally(_ node: RabbitNode, _ url: String, _ queue: String) throws -> Tally {
        try JSONDecoder().decode(Tally.self, from: Data(try node.client([url, "tally", queue]).utf8))
    }

    func count(_ node: RabbitNode, _ url: String, _ queue: String) throws -> Int {
        Int(try node.client([url, "count", queue]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Dead letters in `billing.dlq`, written by RabbitMQ from `n` rejected orders.
    func deadLetters(_ n: Int, _ node: RabbitNode, _ url: String) throws {
        try node.client([url, "publish", "order.placed", "\(n)", "--exchange", "orders"])
        try node.client([url, "reject", "billing", "\(n)"])
        // A reject is not confirmed: the server dead-letters after pika has gone. Wait until all are there.
        let deadline = Date().addingTimeInterval(30)
        while try count(node, url, "billing.dlq") < n && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    }

    func evtop(_ args: [String], _ node: RabbitNode, _ url: String, _ sandbox: Sandbox, limit: Double = 120) throws -> RunResult {
        try runProcess(try evtopBinary(), args + ["--broker", url, "--management", node.managementURL], env: sandbox.environment, limit: limit)
    }

    func testRequeueSendsEveryLetterBackToItsQueueOnceAndEmptiesTheDLQ() throws {
        let (node, url) = try flow()
        try deadLetters(60, node, url)
        let sandbox = try Sandbox()
        let dry = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--dry-run", "--json"], node, url, sandbox)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("\"queue billing\" : 60") || dry.stdout.contains("\"queue billing\":60"), dry.stdout)
        XCTAssertEqual(try count(node, url, "billing.dlq"), 60, "a dry run takes nothing")

        let run = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--json"], node, url, sandbox)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(report["moved"] as? Int, 60, run.stdout)
        XCTAssertEqual(report["failed"] as? Int, 0, run.stdout)
        XCTAssertEqual(try count(node, url, "billing.dlq"), 0)
        XCTAssertEqual(try count(node, url, "shipping"), 60, "the queue it died in, not the exchange: shipping gets no second copy")

        let back = try tally(node, url, "billing")
        XCTAssertEqual(back.count, 60)
        XCTAssertEqual(Set(back.copies.keys), Set((0..<60).map { "ord-\($0)" }))
        XCTAssertTrue(back.copies.values.allSatisfy { $0 == 1 }, "\(back.copies)")
        XCTAssertEqual(back.order, (0..<60).map { "ord-\($0)" }, "sent in DLQ order")
        XCTAssertEqual(Set(back.redriveIds.compactMap { $0 }).count, 60, "each copy carries its own evtop-redrive-id")
        XCTAssertEqual(back.withDeath, 0, "the dead-letter headers are removed")

        let jobs = try evtop(["dlq", "jobs", "--json"], node, url, sandbox)
        XCTAssertEqual(jobs.status, 0, jobs.stderr)
        XCTAssertTrue(jobs.stdout.contains("queue-redrive"), jobs.stdout)
        let again = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes"], node, url, sandbox)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing to requeue"), again.stdout)
    }

    func testASelectionMovesOnlyItsLettersAndTheRestStayInTheirOrder() throws {
        let (node, url) = try flow()
        try deadLetters(12, node, url)
        let sandbox = try Sandbox()
        let run = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--max", "3", "--to", "shipping"], node, url, sandbox)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("requeued 3 of 3"), run.stdout)
        let left = try tally(node, url, "billing.dlq")
        XCTAssertEqual(left.order, (3..<12).map { "ord-\($0)" }, "the letters not selected stay, in their order")
        let shipping = try tally(node, url, "shipping")
        XCTAssertEqual(shipping.count, 15, "12 first deliveries and the 3 sent with --to")
        XCTAssertEqual(shipping.redriveIds.compactMap { $0 }.count, 3)

        // A queue nobody bound: the publish comes back unroutable, and the letter stays in the DLQ.
        try deadLetters(2, node, url)
        let nowhere = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--to", "no-such-queue"], node, url, sandbox)
        XCTAssertEqual(nowhere.status, 1, nowhere.stdout + nowhere.stderr)
        XCTAssertTrue(nowhere.stdout.contains("unroutable"), nowhere.stdout)
        XCTAssertEqual(try count(node, url, "billing.dlq"), 2, "nothing acked that was not confirmed")
    }

    func testTheServerStoppedMidJobMakesItWaitAndResumeWithoutLoss() throws {
        let (node, url) = try flow()
        try deadLetters(400, node, url)
        let sandbox = try Sandbox()
        let p = try spawnProcess(try evtopBinary(), ["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--rate", "40",
                                                     "--broker", url, "--management", node.managementURL], env: sandbox.environment)
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(p.isRunning, "the job is still moving letters when the server stops")
        XCTAssertEqual(node.restart(downSeconds: 3), 0, "the node came back")
        let deadline = Date().addingTimeInterval(180)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "the job waited for the server and finished")
        XCTAssertEqual(try count(node, url, "billing.dlq"), 0)
        let back = try tally(node, url, "billing")
        XCTAssertEqual(Set(back.copies.keys).count, 400, "nothing lost")
        let duplicates = back.copies.values.reduce(0) { $0 + $1 - 1 }
        let jobs = try evtop(["dlq", "jobs", "--json"], node, url, sandbox)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]], jobs.stdout)
        XCTAssertLessThanOrEqual(duplicates, list.reduce(0) { $0 + (($1["inDoubt"] as? Int) ?? 0) })
        XCTAssertEqual(list.first?["state"] as? String, "completed")
    }

    /// The server freezes (SIGSTOP on its VM: connections stay open, nothing answers), and the operator
    /// cancels: the job stops while the server is still frozen instead of waiting out librabbitmq's
    /// timeouts, what was in flight stays in doubt, and `dlq resume` after the thaw loses nothing.
    func testCancelWhileTheServerIsFrozenEndsTheJobAndResumeLosesNothing() throws {
        let (node, url) = try flow()
        try deadLetters(300, node, url)
        let sandbox = try Sandbox()
        let pidText = try String(contentsOfFile: node.dir + "/node.pid", encoding: .utf8)
        let beam = try XCTUnwrap(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), pidText)
        let p = try spawnProcess(try evtopBinary(), ["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--rate", "40",
                                                     "--broker", url, "--management", node.managementURL], env: sandbox.environment)
        // Freeze once letters have begun to move (a loaded machine can take seconds to start the job).
        let moving = Date().addingTimeInterval(60)
        while try p.isRunning && Date() < moving && count(node, url, "billing") <= 0 { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertTrue(p.isRunning, "the job is still moving letters when the server freezes")
        XCTAssertEqual(kill(beam, SIGSTOP), 0)
        var thawed = false
        defer { if !thawed { kill(beam, SIGCONT) } }
        Thread.sleep(forTimeInterval: 1.5)  // the job is now inside a call that gets no answer
        kill(p.processIdentifier, SIGINT)
        // librabbitmq would wait 5 s for an answer and 30 s for a confirm; a cancel is taken within a second.
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(p.isRunning, "the job ended while the server was still frozen")
        kill(beam, SIGCONT)
        thawed = true
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130, "cancelled")

        let resumed = try evtop(["dlq", "resume"], node, url, sandbox, limit: 180)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        // A cancel keeps the rest in the DLQ (the job drops what it had not started); resume settled the doubt.
        let back = try tally(node, url, "billing"), left = try tally(node, url, "billing.dlq")
        XCTAssertGreaterThan(back.count, 0, "some letters had moved before the freeze")
        XCTAssertGreaterThan(left.count, 0, "the cancel kept the rest in the DLQ")
        XCTAssertEqual(Set(back.copies.keys).union(left.copies.keys).count, 300, "nothing lost")
        XCTAssertTrue(Set(back.copies.keys).isDisjoint(with: left.copies.keys), "no letter both moved and still in the DLQ")
        let duplicates = back.copies.values.reduce(0) { $0 + $1 - 1 }
        let jobs = try evtop(["dlq", "jobs", "--json"], node, url, sandbox)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]], jobs.stdout)
        XCTAssertLessThanOrEqual(duplicates, list.reduce(0) { $0 + (($1["inDoubt"] as? Int) ?? 0) }, "every second copy was in doubt")
    }

    /// ≥ 20 SIGKILLs at random moments of requeues of `EVTOP_RABBIT_KILL_LETTERS` letters (10,000 by default),
    /// then a resume: every letter is in `billing`, none is left in the DLQ, and every second copy is one the
    /// journal says was sent again after doubt.
    func testKillNineAtRandomMomentsLosesNothingAndEveryDuplicateIsInDoubt() throws {
        let (node, url) = try flow()
        let letters = Int(ProcessInfo.processInfo.environment["EVTOP_RABBIT_KILL_LETTERS"] ?? "") ?? 10_000
        try deadLetters(letters, node, url)
        let binary = try evtopBinary()
        let sandbox = try Sandbox()
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var runs = 0
        while kills < 20 && runs < 60 {
            runs += 1
            // Paced so that the kills land in the middle of jobs, on a fast machine too.
            let p = try spawnProcess(binary, ["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes", "--rate", "400",
                                              "--broker", url, "--management", node.managementURL], env: sandbox.environment)
            usleep(UInt32.random(in: 300_000...1_500_000, using: &generator))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        let resume = try evtop(["dlq", "resume"], node, url, sandbox, limit: 600)
        XCTAssertEqual(resume.status, 0, resume.stderr)
        let last = try evtop(["dlq", "requeue", "--dlq-topic", "billing.dlq", "--yes"], node, url, sandbox, limit: 600)
        XCTAssertEqual(last.status, 0, last.stdout + last.stderr)
        XCTAssertEqual(try count(node, url, "billing.dlq"), 0, "every letter left the DLQ")
        let back = try tally(node, url, "billing")
        let missing = (0..<letters).map { "ord-\($0)" }.filter { back.copies[$0] == nil }
        XCTAssertEqual(missing, [], "lost letters")
        let duplicates = back.copies.values.reduce(0) { $0 + max(0, $1 - 1) }
        let jobs = try evtop(["dlq", "jobs", "--json", "--max", "1000"], node, url, sandbox)
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(jobs.stdout.utf8)) as? [[String: Any]], jobs.stdout)
        let inDoubt = list.reduce(0) { $0 + (($1["inDoubt"] as? Int) ?? 0) }
        XCTAssertLessThanOrEqual(duplicates, inDoubt, "every second copy is accounted for by an in-doubt entry")
        // A second copy carries the same redrive id as the first: a consumer that drops repeated ids sees each once.
        var byID: [String: Set<String>] = [:]
        for (order, id) in zip(back.order, back.redriveIds) { if let id { byID[id, default: []].insert(order) } }
        XCTAssertTrue(byID.values.allSatisfy { $0.count == 1 }, "one redrive id, one letter")
        XCTAssertEqual(Set(back.redriveIds.compactMap { $0 }).count, letters, "one redrive id per letter")
        print("rabbitmq kill test: \(letters) letters, \(kills) SIGKILLs, \(list.count) jobs, \(back.count) copies in billing, "
              + "\(duplicates) duplicates, \(inDoubt) in-doubt entries, 0 lost")
        // Paced at 400/s, 20 runs of at most 1.5 s cannot move 10,000 letters: every kill lands in a job.
        if letters >= 10_000 { XCTAssertGreaterThanOrEqual(kills, 20, "the kills landed while a job ran") }
    }
}

/// The real RabbitMQ source with one fault injected: the connection "drops" right after a publish was sent
/// (its confirm never read), or right after the acknowledgements were sent. What the broker did is real.
final class FaultAfterPublish: QueueMover, @unchecked Sendable {
    enum Moment { case beforeConfirm, afterAcknowledge }
    let base: any QueueMover
    let moment: Moment
    private let lock = NSLock()
    private var armed = true

    init(_ base: any QueueMover, at moment: Moment) {
        self.base = base
        self.moment = moment
    }

    func fire() -> Bool {
        lock.lock(); defer { lock.unlock() }
        defer { armed = false }
        return armed
    }

    func openMoveSession(queue: String) async throws -> any QueueMoveSession {
        Session(base: try await base.openMoveSession(queue: queue), owner: self)
    }

    struct Session: QueueMoveSession {
        let base: any QueueMoveSession
        let owner: FaultAfterPublish
        func take() async throws -> TakenMessage? { try await base.take() }
        func release(_ tag: UInt64) async { await base.release(tag) }
        func publish(_ publishes: [QueuePublish]) async throws -> [QueuePublishOutcome] {
            let outcomes = try await base.publish(publishes)
            if owner.moment == .beforeConfirm, owner.fire() { throw BrokerError.unavailable("injected: the confirms were lost") }
            return outcomes
        }
        func acknowledge(_ tags: [UInt64]) async throws {
            if owner.moment == .afterAcknowledge, owner.fire() { throw BrokerError.unavailable("injected: the connection dropped before the acks") }
            try await base.acknowledge(tags)
        }
        func close() async { await base.close() }
    }
}

extension RabbitMQEndToEndTests {
    func runFaulty(_ moment: FaultAfterPublish.Moment, letters: Int) async throws -> (report: RedriveReport, back: Tally, dlq: Int) {
        let (node, url) = try flow(moment == .beforeConfirm ? "faultBeforeConfirm" : "faultAfterAck")
        try deadLetters(letters, node, url)
        let source = try log(url)
        let browsed = try await source.fetch(topic: "billing.dlq", partition: 0, from: 0, maxRecords: 10_000)
        XCTAssertEqual(browsed.count, letters)
        let box = try Sandbox()
        let engine = QueueRedriveEngine(mover: FaultAfterPublish(source, at: moment), sourceDescription: source.sourceDescription,
                                        journal: try RedriveJournal(path: box.path("j.journal")))
        let report = try await engine.run(.init(queue: "billing.dlq", letters: browsed, targetQueue: nil, ratePerSecond: nil,
                                                description: "all", user: "test"))
        return (report, try tally(node, url, "billing"), try count(node, url, "billing.dlq"))
    }

    func testConfirmsLostAfterAPublishMeanTheLettersAreSentAgainWithTheSameIDAndCounted() async throws {
        let (report, back, dlq) = try await runFaulty(.beforeConfirm, letters: 50)
        XCTAssertEqual(dlq, 0)
        XCTAssertEqual(report.moved, 50)
        XCTAssertEqual(Set(back.copies.keys).count, 50, "nothing lost")
        let duplicates = back.copies.values.reduce(0) { $0 + $1 - 1 }
        XCTAssertGreaterThan(duplicates, 0, "the first publish landed, so the batch is there twice")
        XCTAssertEqual(duplicates, report.sentAgainAfterDoubt, "every second copy is one the report counts as sent again")
        var byID: [String: Set<String>] = [:]
        for (order, id) in zip(back.order, back.redriveIds) { if let id { byID[id, default: []].insert(order) } }
        XCTAssertEqual(byID.count, 50, "both copies of a letter carry its one redrive id")
        XCTAssertTrue(byID.values.allSatisfy { $0.count == 1 })
    }

    func testAConnectionLostAfterTheConfirmAcknowledgesTheLettersWithoutASecondCopy() async throws {
        let (report, back, dlq) = try await runFaulty(.afterAcknowledge, letters: 50)
        XCTAssertEqual(dlq, 0, "the letters that came back to the DLQ were recognised and acknowledged")
        XCTAssertEqual(report.moved, 50)
        XCTAssertEqual(back.count, 50, "no second copy: the journal had their confirms")
        XCTAssertEqual(report.sentAgainAfterDoubt, 0)
    }
}
