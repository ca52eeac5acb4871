import Foundation
import Logging
import Synchronization
import EventModel
import Dashboard
import Redrive

/// Redrive for the dashboard: runs jobs and reads journal states off the UI thread, posting
/// results to the mailbox; resumes jobs a killed evtop left behind when the dashboard starts.
final class DashboardRedrive: Sendable {
    let source: OpenedSource
    let journal: JournalLocator
    let readOnly: Bool
    let mailbox: ActionMailbox
    private let cancelled = Mutex(false)
    /// Jobs running now (started or resumed), and whether the source was closed (a context switch): no job
    /// starts on a closed source, and none is running when it closes.
    private let jobs = Mutex<(running: Int, closed: Bool)>((0, false))
    private let logger = Logger(label: "evtop.redrive")

    init(source: OpenedSource, journal: JournalLocator, readOnly: Bool, mailbox: ActionMailbox) {
        self.source = source
        self.journal = journal
        self.readOnly = readOnly
        self.mailbox = mailbox
    }

    /// Finishes interrupted jobs in the background, saying so in the status line.
    func resumeInterrupted() {
        if !readOnly, let mover = source.queueMover {
            Task.detached { [self] in
                do {
                    guard let path = try? await journal.path(), FileManager.default.fileExists(atPath: path) else { return }
                    // A job from here on (not while the broker is asked who it is: a switch away need not wait for
                    // that), unless the source was closed meanwhile: the next session on it resumes instead.
                    guard enter() else { return }
                    defer { leave() }
                    let engine = QueueRedriveEngine(mover: mover, sourceDescription: source.description,
                                                    journal: try RedriveJournal(path: path), ownsJournal: true)
                    for report in try await engine.resumeInterrupted() {
                        mailbox.post(.notify("resumed interrupted requeue \(report.jobID): \(report.moved) moved in all", isError: false))
                    }
                } catch {
                    logger.error("resuming interrupted redrive jobs failed: \(error)")
                    mailbox.post(.notify("resuming an interrupted requeue failed: \(error)", isError: true))
                }
            }
            return
        }
        guard !readOnly, let log = source.writable else { return }
        Task.detached { [self] in
            do {
                // A cluster that is down at start has not said its id: the next start resumes instead.
                guard let path = try? await journal.path(), FileManager.default.fileExists(atPath: path) else { return }
                guard enter() else { return }
                defer { leave() }
                let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path), ownsJournal: true)
                for report in try await engine.resumeInterrupted() {
                    mailbox.post(.notify("resumed interrupted requeue \(report.jobID): \(report.moved) moved in all", isError: false))
                }
            } catch {
                logger.error("resuming interrupted redrive jobs failed: \(error)")
                mailbox.post(.notify("resuming an interrupted requeue failed: \(error)", isError: true))
            }
        }
    }

    /// Runs a job; progress, then the report (or the error), arrive through the mailbox.
    @discardableResult
    func start(_ request: RedriveRequest) -> Task<Void, Never> {
        cancelled.withLock { $0 = false }
        var request = request
        request.user = Operator.name // the audit trail names the same user as the CLI does
        if source.lettersAreQueued { return startOnQueue(request) }
        return job { [self, request] in
            do {
                let path = try await journal.path()
                let journal: RedriveJournal?
                if request.dryRun {
                    journal = FileManager.default.fileExists(atPath: path) ? try RedriveJournal(path: path, readOnly: true) : nil
                } else {
                    guard !readOnly, source.writable != nil else { throw OperatorError("read-only: requeue is disabled (--read-only)") }
                    journal = try RedriveJournal(path: path)
                }
                let engine = RedriveEngine(reader: source.reader, writer: source.writable, journal: journal, ownsJournal: true)
                if !request.dryRun {
                    // Jobs a killed evtop left (not resumed at start if the cluster had not answered then) go
                    // first, as on the command line: their letters then count as requeued for this one. Their
                    // progress shows in the same bar, esc stops them too, and a failure there is only a warning.
                    do {
                        for report in try await engine.resumeInterrupted(progress: { [mailbox] in mailbox.post(.redriveProgress($0)) },
                                                                         isCancelled: { [self] in cancelled.withLock { $0 } }) {
                            mailbox.post(.notify("resumed interrupted requeue \(report.jobID): \(report.moved) moved in all", isError: false))
                        }
                    } catch {
                        logger.warning("resuming interrupted redrive jobs failed: \(error)")
                        mailbox.post(.notify("resuming an interrupted requeue failed: \(error)", isError: true))
                    }
                }
                finished(try await engine.run(request, progress: { [mailbox] in mailbox.post(.redriveProgress($0)) },
                                              isCancelled: { [self] in cancelled.withLock { $0 } }))
            } catch {
                failed(error)
            }
        }
    }

    /// Sets letters aside or gives them back (`undo`) through the journal, then re-reads their states.
    @discardableResult
    func skip(_ request: SkipRequest) -> Task<Void, Never> {
        Task.detached { [self] in
            do {
                guard !readOnly else { throw OperatorError("read-only: skip is disabled (--read-only)") }
                guard !source.lettersAreQueued else {
                    throw OperatorError("skip works on logs: a queue's letters are found by browsing, and the journal cannot hold one aside")
                }
                let engine = RedriveEngine(reader: source.reader, writer: source.writable, journal: try RedriveJournal(path: try await journal.path()),
                                           ownsJournal: true)
                let changed = try engine.skip(topic: request.topic, positions: request.positions, timestamps: request.timestamps,
                                              selection: request.selection, user: Operator.name, undo: request.undo)
                let left = request.positions.count - changed
                var text = request.undo ? "un-skipped \(changed): requeue may select \(changed == 1 ? "it" : "them") again"
                    : "skipped \(changed): kept on the DLQ, no requeue will move \(changed == 1 ? "it" : "them") (x again un-skips)"
                if left > 0 { text += request.undo ? "; \(left) were not skipped" : "; \(left) already requeued or in a job, left as they are" }
                mailbox.post(.notify(text, isError: false))
            } catch {
                logger.error("skip failed: \(error)")
                mailbox.post(.notify("skip failed: \(error)", isError: true))
            }
            await loadStates(topic: request.topic, positions: request.allLoaded, timestamps: request.timestamps).value
        }
    }

    /// A job on a dead-letter queue (RabbitMQ): the shown letters are found again by browsing, and moved by
    /// taking them (``QueueRedriveEngine``). A letter no longer where it was shown refuses the whole job.
    private func startOnQueue(_ request: RedriveRequest) -> Task<Void, Never> {
        job { [self, request] in
            do {
                guard let last = request.positions.map(\.offset).max() else { return }
                let browsed = try await source.reader.fetch(topic: request.sourceTopic, partition: 0, from: 0, maxRecords: Int(last) + 1)
                var letters: [Record] = []
                for position in request.positions {
                    // Positions shift when a consumer takes a message: the letter must be the one shown, by content.
                    guard position.offset < browsed.count, let shown = request.fingerprints[position],
                          QueueFingerprint.of(browsed[Int(position.offset)]) == shown else {
                        throw OperatorError("\(request.sourceTopic) changed since its letters were shown (a consumer took some): "
                                            + "nothing was moved; select again once the list has reloaded")
                    }
                    letters.append(browsed[Int(position.offset)])
                }
                let selection = QueueRedriveEngine.Selection(queue: request.sourceTopic, letters: letters, targetQueue: request.targetOverride,
                                                             ratePerSecond: request.ratePerSecond, description: request.selectionDescription,
                                                             user: request.user)
                if request.dryRun {
                    mailbox.post(.redriveFinished(QueueRedriveEngine.dryRun(selection)))
                    return
                }
                guard !readOnly, let mover = source.queueMover else { throw OperatorError("read-only: requeue is disabled (--read-only)") }
                let engine = QueueRedriveEngine(mover: mover, sourceDescription: source.description,
                                                journal: try RedriveJournal(path: try await journal.path()), ownsJournal: true)
                finished(try await engine.run(selection, progress: { [mailbox] in mailbox.post(.redriveProgress($0)) },
                                              isCancelled: { [self] in cancelled.withLock { $0 } }))
            } catch {
                failed(error)
            }
        }
    }

    private func finished(_ report: RedriveReport) {
        logger.info("redrive \(report.jobID): \(report.moved) moved, \(report.failed) failed, cancelled \(report.cancelled)")
        mailbox.post(.redriveFinished(report))
    }

    private func failed(_ error: any Error) {
        logger.error("redrive failed: \(error)")
        mailbox.post(.redriveFailed("\(error)"))
    }

    /// Asks the running job to stop after its batch in flight.
    func cancel() { cancelled.withLock { $0 = true } }

    /// Closes the source for jobs unless one runs (started here or resumed at start: it must not be torn
    /// mid-batch); returns false, leaving it open, when one does. What a context switch asks before it closes.
    func closeIfIdle() -> Bool {
        jobs.withLock { j in
            guard j.running == 0 else { return false }
            j.closed = true
            return true
        }
    }

    /// Counts a job in; false when the source is closed.
    private func enter() -> Bool {
        jobs.withLock { j in
            guard !j.closed else { return false }
            j.running += 1
            return true
        }
    }

    private func leave() { jobs.withLock { $0.running -= 1 } }

    /// Runs `body` counted as a job.
    @discardableResult
    private func job(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        let entered = enter()
        return Task.detached { [self] in
            guard entered else {
                mailbox.post(.redriveFailed("the source was closed (a context switch): nothing was moved"))
                return
            }
            await body()
            leave()
        }
    }

    /// Reads journal states for loaded letters.
    func loadStates(topic: String, positions: [RecordPosition], timestamps: [RecordPosition: Int64]) -> Task<Void, Never> {
        Task.detached { [self] in
            do {
                let path: String
                do { path = try await journal.path() } catch {
                    logger.warning("requeue states unknown: \(error)")
                    mailbox.post(.notify("requeue states unknown until the cluster says its id (is it reachable?)", isError: true))
                    return
                }
                guard FileManager.default.fileExists(atPath: path) else { return }
                let journal = try RedriveJournal(path: path, readOnly: true)
                let states = try journal.states(topic: topic, positions: positions.map { ($0.partition, $0.offset, timestamps[$0]) })
                mailbox.post(.redriveStatesLoaded(topic: topic, states: states))
            } catch {
                logger.warning("reading redrive states failed: \(error)")
            }
        }
    }
}
