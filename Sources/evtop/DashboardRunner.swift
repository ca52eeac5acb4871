import Foundation
import Logging
import Synchronization
import EventModel
import TerminalUI
import NCursesTerminal
import Dashboard

/// Actions produced off the UI thread (source polling), collected for the run loop.
final class ActionMailbox: Sendable {
    private let queue = Mutex<[Action]>([])

    /// Adds an action.
    func post(_ action: Action) { queue.withLock { $0.append(action) } }

    /// Takes every queued action.
    func drain() -> [Action] { queue.withLock { q in defer { q.removeAll() }; return q } }
}

/// The dashboard was asked to stop by a signal; `Evtop.main` re-raises it once everything is cleaned up.
struct TerminatedBySignal: Error {
    var signal: Int32
}

/// Polls a broker log for snapshots at a fixed interval until cancelled.
struct SnapshotPoller {
    let log: any BrokerLog
    let interval: Duration
    let mailbox: ActionMailbox
    let logger = Logger(label: "evtop.poller")

    func start() -> Task<Void, Never> {
        Task.detached { [log, interval, mailbox, logger] in
            while !Task.isCancelled {
                do {
                    mailbox.post(.snapshot(try await log.snapshot()))
                } catch {
                    logger.warning("snapshot failed: \(error)")
                    mailbox.post(.sourceFailed(String(describing: error)))
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// The interactive loop: keys, source updates and a tick reduced into the state, one draw per pass.
/// Everything ncurses happens here, on the main actor.
@MainActor
enum DashboardRunner {
    static func run(log: any BrokerLog, state initial: AppState, theme initialTheme: Theme,
                    refresh: Duration, noColor: Bool, journal: JournalLocator, mailbox: ActionMailbox = ActionMailbox(),
                    sagas: PendingSagaLoader? = nil) async throws {
        let redrive = DashboardRedrive(log: log, journal: journal, readOnly: initial.readOnly, mailbox: mailbox)
        redrive.resumeInterrupted()
        defer { redrive.cancel() }
        let backend = try NCursesBackend(noColor: noColor)
        defer { backend.restore() }
        var state = initial
        state.size = backend.size
        var theme = noColor ? initialTheme.withoutColor : initialTheme
        let poller = SnapshotPoller(log: log, interval: refresh, mailbox: mailbox).start()
        defer { poller.cancel() }
        // The correlation index catches up off the UI thread, a bounded batch per refresh.
        let indexing = sagas.map { SagaIndexing(loader: $0, interval: refresh).start() }
        defer { indexing?.cancel() }

        var dirty = true
        // Ticks by a monotonic clock: a wall clock stepped back by NTP must not freeze them.
        let clock = ContinuousClock()
        var lastTick = clock.now
        while !state.shouldQuit {
            if let sig = backend.pendingTerminationSignal {
                // Leave through the normal path: every defer (terminal, poller, simulator) runs.
                throw TerminatedBySignal(signal: sig)
            }
            // Input first. The first read waits up to 40 ms for a key (the terminal wakes us at
            // once when one comes: no busy polling, ~25 wake-ups a second when idle); the rest of a
            // burst (a paste, a held key) is drained without waiting. Only this actor touches ncurses.
            var effects: [Effect] = []
            var wait = 40
            while let event = backend.nextEvent(timeoutMillis: wait) {
                wait = 0
                switch event {
                case .key(let key): effects += Reducer.reduce(&state, .key(key))
                case .resize(let size): effects += Reducer.reduce(&state, .resize(size))
                case .scroll(let lines): effects += Reducer.reduce(&state, .scroll(lines))
                }
                dirty = true
                if state.shouldQuit { break }
            }
            for action in mailbox.drain() {
                effects += Reducer.reduce(&state, action)
                dirty = true
            }
            if clock.now - lastTick >= .seconds(1) {
                lastTick = clock.now
                effects += Reducer.reduce(&state, .tick(Date()))
                dirty = true
            }
            for effect in effects {
                perform(effect, state: &state, theme: &theme, noColor: noColor, log: log, mailbox: mailbox,
                        redrive: redrive, sagas: sagas)
            }
            if dirty {
                backend.draw(Screen.render(state, theme: theme))
                dirty = false
            }
            await Task.yield()
        }
    }

    private static func perform(_ effect: Effect, state: inout AppState, theme: inout Theme, noColor: Bool,
                                log: any BrokerLog, mailbox: ActionMailbox, redrive: DashboardRedrive, sagas: PendingSagaLoader?) {
        switch effect {
        case .loadTheme(let name):
            do {
                let loaded = try ThemeCatalog.load(name)
                theme = noColor ? loaded.withoutColor : loaded
                Reducer.reduce(&state, .themeChanged(loaded.name))
            } catch {
                Reducer.reduce(&state, .notify("theme: \(error)", isError: true))
            }
        case .follow(let id):
            // The reducer opened the timeline; its loads are planned like any other.
            Logger(label: "evtop.sagas").info("following \(id)")
        case .probeDeadLetterTopics(let names):
            let topics = (state.snapshot?.topics ?? []).filter { names.contains($0.name) }
            Task.detached {
                let found = await DeadLetterLoader.probe(log: log, topics: topics)
                if !found.isEmpty { mailbox.post(.deadLetterTopicsDetected(found)) }
            }
        case .loadRedriveStates(let topic, let positions, let timestamps):
            redrive.loadStates(topic: topic, positions: positions, timestamps: timestamps)
        case .startRedrive(let request):
            redrive.start(request)
        case .cancelRedrive:
            redrive.cancel()
        case .loadSagas, .loadSaga:
            guard let sagas else {
                Reducer.reduce(&state, .sagaLoadFailed("no saga loader for this source"))
                return
            }
            SagaIndexing.load(effect, loader: sagas, mailbox: mailbox)
        case .loadDeadLetters(let names):
            // Off the UI thread: the result comes back through the mailbox like a snapshot.
            let topics = (state.snapshot?.topics ?? []).filter { names.contains($0.name) }
            let logger = Logger(label: "evtop.dlq")
            Task.detached {
                for topic in topics {
                    do {
                        let letters = try await DeadLetterLoader.load(log: log, topic: topic)
                        mailbox.post(.deadLettersLoaded(topic: topic.name, letters: letters))
                    } catch {
                        logger.warning("loading dead letters of \(topic.name) failed: \(error)")
                        mailbox.post(.notify("dead letters of \(topic.name): \(error)", isError: true))
                    }
                }
            }
        }
    }
}

/// Keeps the correlation index caught up and answers the sagas views' loads, all off the UI thread.
struct SagaIndexing {
    let loader: PendingSagaLoader
    let interval: Duration

    func start() -> Task<Void, Never> {
        Task.detached { [loader = self.loader, interval] in
            let logger = Logger(label: "evtop.index")
            let loader = await loader.loader
            while !Task.isCancelled {
                var behind = false
                do {
                    // Bounded batches; while behind (a big store opened the first time) the next one follows at once.
                    // A batch that read nothing waits the interval: whatever holds it up, no busy loop.
                    let progress = try await loader.catchUp()
                    behind = (progress?.remaining ?? 0) > 0 && (progress?.read ?? 0) > 0
                } catch {
                    logger.warning("correlation index: \(error)")
                }
                try? await Task.sleep(for: behind ? .milliseconds(20) : interval)
            }
        }
    }

    /// Runs a `.loadSagas` / `.loadSaga` effect and posts the result.
    static func load(_ effect: Effect, loader pending: PendingSagaLoader, mailbox: ActionMailbox) {
        Task.detached {
            let loader = await pending.loader
            do {
                switch effect {
                case .loadSagas:
                    let rows = try await loader.recent(limit: SagaModel.maxListRows, now: Date())
                    mailbox.post(.sagasLoaded(rows, note: loader.note))
                case .loadSaga(let id):
                    mailbox.post(.sagaLoaded(try await loader.timeline(id: id, now: Date()), note: loader.note))
                default:
                    break
                }
            } catch {
                Logger(label: "evtop.sagas").warning("loading sagas failed: \(error)")
                mailbox.post(.sagaLoadFailed(String(describing: error)))
            }
        }
    }
}
