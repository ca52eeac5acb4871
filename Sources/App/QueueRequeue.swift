import Foundation
import EventModel
import Dashboard
import Redrive
import TerminalUI

/// `evtop dlq requeue` and `dlq resume` on a source whose dead letters sit in a queue (RabbitMQ): letters
/// are taken from the DLQ and acknowledged only after their publish is confirmed (``QueueRedriveEngine``).
enum QueueRequeue {
    /// Selects letters of `queue` (head first, matching `filter`, at most `max`) and moves them.
    static func requeue(opened: OpenedSource, move: MoveSettings, queue: String, to: String?, max: Int?, filter: String?) async throws {
        let path: String
        if let chosen = move.journal { path = Paths.expand(chosen) } else { path = try await SourceFiles.journalPath(of: opened.reader) }
        let cancel = CancelFlag()
        var engine: QueueRedriveEngine?
        if !move.dryRun {
            guard let mover = opened.queueMover else {
                throw OperatorError("\(opened.description) cannot be written to: requeue needs a writable source")
            }
            let made = QueueRedriveEngine(mover: mover, sourceDescription: opened.description, journal: try RedriveJournal(path: path),
                                          ownsJournal: move.journal == nil)
            engine = made
            cancel.install()
            await resume(made, cancel: cancel)
            if cancel.isCancelled { throw ExitStatus(130) }
        }
        let letters = try await select(log: opened.reader, queue: queue, filter: filter ?? "", max: max)
        var description = "\(letters.count) from the head"
        if let filter { description += " matching /\(filter)/" }
        let selection = QueueRedriveEngine.Selection(queue: queue, letters: letters, targetQueue: to, ratePerSecond: move.rate,
                                                     description: description, user: Operator.name)
        let request = RedriveRequest(kind: .redrive, sourceTopic: queue, positions: [], targetOverride: to, ratePerSecond: move.rate,
                                     dryRun: move.dryRun, selectionDescription: description, user: Operator.name)
        guard !letters.isEmpty else {
            if move.json {
                let empty = RedriveReport(jobID: "", selected: 0, moved: 0, skipped: 0, failures: [], failed: 0, targets: [:],
                                          cancelled: false, dryRun: move.dryRun)
                print(TerminalSafe.json(try ScriptJSON.encode(MoveRunner.ReportJSON(empty, request: request))))
                return
            }
            print("nothing to requeue from \(TextWidth.sanitized(queue))" + (filter.map { " matching \(TextWidth.sanitized($0))" } ?? ""))
            return
        }
        let report: RedriveReport
        if let engine {
            let rate = move.rate.map { "at \(NumberFormat.rate($0))/s" } ?? "unthrottled"
            let whereTo = to.map { "queue \($0)" } ?? "the exchanges they were first published to"
            try MoveRunner.confirm("Requeue \(letters.count) dead letters from \(TextWidth.sanitized(queue)) to \(TextWidth.sanitized(whereTo)), \(rate)?",
                                   yes: move.yes)
            cancel.setJobRunning(true)
            defer { cancel.setJobRunning(false) }
            report = try await engine.run(selection, progress: MoveRunner.progressPrinter(), isCancelled: { cancel.isCancelled })
            MoveRunner.endProgress()
        } else {
            // A dry run writes nothing and takes nothing: it only says where each letter would go.
            report = QueueRedriveEngine.dryRun(selection)
        }
        if move.json {
            print(TerminalSafe.json(try ScriptJSON.encode(MoveRunner.ReportJSON(report, request: request))))
        } else {
            print(MoveRunner.summary(report, request: request))
        }
        if report.cancelled { throw ExitStatus(130) }
        if report.failed > 0 { throw ExitStatus(1) }
    }

    /// Finishes queue jobs a killed evtop left behind (`dlq resume`, and before every requeue).
    static func resume(_ engine: QueueRedriveEngine, cancel: CancelFlag) async {
        cancel.setJobRunning(true)
        defer { cancel.setJobRunning(false) }
        do {
            let reports = try await engine.resumeInterrupted(progress: MoveRunner.progressPrinter("resuming an interrupted job: moved"),
                                                             isCancelled: { cancel.isCancelled })
            MoveRunner.endProgress()
            for r in reports {
                FileHandle.standardError.write(Data("resumed interrupted job \(r.jobID): \(r.moved) moved in all, \(r.failed) failed, \(r.sentAgainAfterDoubt) sent again after doubt\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("warning: an interrupted job could not be resumed now (\(TextWidth.sanitized(String(describing: error)))); `evtop dlq resume` retries it\n".utf8))
        }
    }

    /// The most letters one requeue looks at (what a browse may hold unacknowledged at once).
    static let browseBound = 200_000

    /// The letters of `queue` from its head, in queue order, matching `filter`, at most `max`: one browse.
    static func select(log: any LogReader, queue: String, filter: String, max: Int?) async throws -> [Record] {
        let info: TopicInfo
        do { info = try await log.watermarks(topic: queue) } catch BrokerError.unknownTopic {
            throw OperatorError("no queue named \(TextWidth.sanitized(queue))")
        }
        guard info.partitions.count == 1 else { throw OperatorError("\(TextWidth.sanitized(queue)) is not a queue") }
        // One read of the whole queue (up to the browse bound), until the server says it is empty: the
        // management API's depth lags by seconds, and every browse starts at the head, so pieces would cost n².
        let records = try await log.fetch(topic: queue, partition: 0, from: 0, maxRecords: Self.browseBound)
        let rowFilter = RowFilter(filter)
        let offset = TimeZone.current.secondsFromGMT()
        var out: [Record] = []
        for r in records {
            if let max, out.count >= max { break }
            if !filter.isEmpty {
                let row = DeadLetterModel.row(DeadLetterParser.parse(r))
                guard rowFilter.matches(DeadLetterModel.filterText(row, utcOffsetSeconds: offset)) else { continue }
            }
            out.append(r)
        }
        return out
    }
}
