import Foundation
import Logging
import Synchronization
import EventModel
import TerminalUI
import Dashboard
import OTLPReceiver

/// Actions produced off the UI thread (source polling, loads), collected for the run loop.
public final class ActionMailbox: Sendable {
    private let queue = Mutex<[Action]>([])

    /// Creates an empty mailbox.
    public init() {}

    /// Adds an action.
    public func post(_ action: Action) { queue.withLock { $0.append(action) } }

    /// Takes every queued action.
    func drain() -> [Action] { queue.withLock { q in defer { q.removeAll() }; return q } }
}

/// Carries out what the reducer asks for (loads, redrive, probes) off the UI thread; every result comes
/// back through the mailbox as an action. Shared by the dashboard and `evtop snapshot`, so both load
/// the same way. Each effect that works in the background returns its task, for callers that must wait.
final class EffectPerformer: Sendable {
    let source: OpenedSource
    let mailbox: ActionMailbox
    let redrive: DashboardRedrive
    let sagas: PendingSagaLoader?
    /// Reads the records the insights rules sample, after each snapshot.
    let insights: InsightSampling
    /// Which records time lag needed were read, so each is read once (see ``RecordTimeCache``).
    let recordTimes = RecordTimeCache()
    /// The incident `:record` writes, while it runs.
    let recording = DashboardRecording()
    /// The messages view's read under way, so that it can be stopped.
    let messages = MessageLoading()
    /// The recording's clock moves asked for (`[` `]`), so that only the last one is made.
    let moves = LatestOnly()
    private let logger = Logger(label: "evtop.effects")

    init(source: OpenedSource, readOnly: Bool, mailbox: ActionMailbox, sagas: PendingSagaLoader?,
         insights: InsightSampling = InsightSampling(rules: .default)) {
        self.source = source
        self.mailbox = mailbox
        self.insights = insights
        self.redrive = DashboardRedrive(source: source, journal: JournalLocator(reader: source.reader), readOnly: readOnly, mailbox: mailbox)
        self.sagas = sagas
    }

    /// Starts `effect`; `.loadTheme` is the run loop's own (it changes what draws) and is not handled here.
    @discardableResult
    func perform(_ effect: Effect, state: AppState) -> Task<Void, Never>? {
        let reader = source.reader
        let mailbox = self.mailbox
        switch effect {
        case .loadTheme, .switchContext:
            // The session's own: they change what draws, or the source itself.
            return nil
        case .follow(let id):
            // The reducer opened the timeline; its loads are planned like any other.
            logger.info("following \(id)")
            return nil
        case .probeDeadLetterTopics(let names):
            let topics = (state.snapshot?.topics ?? []).filter { names.contains($0.name) }
            return Task.detached {
                let found = await DeadLetterLoader.probe(log: reader, topics: topics)
                if !found.isEmpty { mailbox.post(.deadLetterTopicsDetected(found)) }
            }
        case .loadRedriveStates(let topic, let positions, let timestamps):
            return redrive.loadStates(topic: topic, positions: positions, timestamps: timestamps)
        case .startRedrive(let request):
            return redrive.start(request)
        case .cancelRedrive:
            redrive.cancel()
            return nil
        case .skipLetters(let request):
            return redrive.skip(request)
        case .copyRecord:
            return nil  // the session's own: it needs the terminal
        case .saveRecord(let position, let path):
            return RecordExport.save(position, path: path, state: state, rules: insights.rules, log: reader, mailbox: mailbox)
        case .movePlayback(let time):
            guard let playback = source.playback else { return nil }
            let (recordTimes, insights, moves) = (self.recordTimes, self.insights, self.moves)
            let serial = moves.next()
            return Task.detached {
                do {
                    // Moves run one at a time and only the last one asked for is made: the source's snapshot
                    // and the state's clock never end at two different moments.
                    guard let moved = try moves.ifLatest(serial, { try playback.move(to: time, history: PlaybackModel.history) }) else { return }
                    mailbox.post(.playbackMoved(clock: moved.clock, snapshots: moved.snapshots))
                    // What a poll does after its snapshot, at the recording's moment: record times, samples.
                    guard let snapshot = moved.snapshots.last else { return }
                    await recordTimes.post(snapshot, reader: reader, to: mailbox)
                    let dlqs = state.deadLetterTopics
                    let records = await insights.sample(reader, snapshot: snapshot) { snapshot.deadLetterTopics.contains($0) || dlqs.isDeadLetterTopic($0) }
                    if !records.isEmpty { mailbox.post(.insightsSampled(records)) }
                } catch {
                    mailbox.post(.notify("recording: \(TerminalSafe.text(error))", isError: true))
                }
            }
        case .startRecording(let path, let duration):
            return recording.start(source: source, rules: insights.rules, path: path, duration: duration, mailbox: mailbox)
        case .stopRecording:
            recording.stop()
            return nil
        case .readMessages(let read):
            return messages.start(read, log: reader, rules: insights.rules, mailbox: mailbox)
        case .stopMessageRead(let serial):
            messages.stop(serial: serial)
            return nil
        case .loadSagas, .loadSaga:
            guard let sagas else {
                mailbox.post(.sagaLoadFailed("no saga loader for this source"))
                return nil
            }
            return SagaIndexing.load(effect, loader: sagas, mailbox: mailbox)
        case .loadDeadLetters(let names):
            let topics = (state.snapshot?.topics ?? []).filter { names.contains($0.name) }
            let logger = self.logger
            return Task.detached {
                for topic in topics {
                    do {
                        let letters = try await DeadLetterLoader.load(log: reader, topic: topic)
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

/// One dashboard session on any terminal: keys, source updates and a tick reduced into the state, one
/// draw per pass. Generic over the terminal so that tests drive a whole session on `TestBackend` with
/// keys, exactly as ncurses drives it. Everything that touches the terminal happens on the UI thread (``UIActor``).
@UIActor
public final class DashboardSession<Backend: TerminalBackend> {
    /// What the session shows now.
    public internal(set) var state: AppState
    /// The terminal.
    public let backend: Backend
    private var theme: Theme
    private let noColor: Bool
    private let loadTheme: (String) throws -> Theme
    /// The source's effect performer: replaced when a context switch opens another source.
    private(set) var performer: EffectPerformer
    /// The config's contexts and how to open one; nil where `:ctx` cannot switch (`evtop snapshot`).
    let contexts: ContextCatalog?
    /// The context `:ctx` asked for, switched to by ``applyPendingSwitch()`` once the pass is drawn.
    private var pendingContext: String?
    /// The source's background work while it runs (``startServices(_:)``): what a switch stops and restarts.
    private var services: ServiceSettings?
    private var poller: Task<Void, Never>?
    private var indexing: Task<Void, Never>?
    private var receiver: OTLPReceiver?
    private let now: () -> Date
    private var lastTick: ContinuousClock.Instant
    private var dirty = true
    /// Background threads are kept below the UI thread, on each tick: only for a session on a real terminal
    /// (tests run many sessions in one process, beside other tests' threads).
    var keepsUIAhead = false
    /// How long each pass that drew took (input, reducer, effects, render, write), and its parts: logged at quit.
    public private(set) var frameTimes = FrameProfile()
    /// Background work this session started and that has not finished (loads, jobs): what `settle` waits for.
    private let pending = PendingWork()

    init(backend: Backend, state: AppState, theme: Theme, noColor: Bool, performer: EffectPerformer,
         loadTheme: @escaping (String) throws -> Theme = ThemeCatalog.load, now: @escaping () -> Date = Date.init,
         contexts: ContextCatalog? = nil) {
        self.contexts = contexts
        self.backend = backend
        self.state = state
        self.state.size = backend.size
        self.theme = noColor ? theme.withoutColor : theme
        self.noColor = noColor
        self.performer = performer
        self.loadTheme = loadTheme
        self.now = now
        self.lastTick = ContinuousClock.now
    }

    /// One pass: input (waiting up to `waitMillis` for the first key; the rest of a burst without
    /// waiting), queued source updates, a tick once a second, the effects, then one draw if anything changed.
    public func step(waitMillis: Int) {
        var effects: [Effect] = []
        var wait = waitMillis
        // The frame's clock starts when there is something to do, not while it waits for a key.
        var firstKey: ContinuousClock.Instant?
        while let event = backend.nextEvent(timeoutMillis: wait) {
            if firstKey == nil { firstKey = ContinuousClock.now }
            wait = 0
            switch event {
            case .key(let key): effects += Reducer.reduce(&state, .key(key))
            case .resize(let size): effects += Reducer.reduce(&state, .resize(size))
            case .scroll(let lines): effects += Reducer.reduce(&state, .scroll(lines))
            }
            dirty = true
            if state.shouldQuit { break }
        }
        let started = firstKey ?? ContinuousClock.now
        let cpuStarted = FrameProfile.threadCPUMillis()
        var snapshotCame = false
        for action in performer.mailbox.drain() {
            if case .snapshot = action { snapshotCame = true }
            effects += Reducer.reduce(&state, action)
            dirty = true
        }
        // Ticks by a monotonic clock: a wall clock stepped back by NTP must not freeze them. A tick due within
        // half a second comes with a snapshot's frame: one frame a second, not one for each.
        let sinceTick = ContinuousClock.now - lastTick
        if sinceTick >= .seconds(1) || (snapshotCame && sinceTick >= .milliseconds(500)) {
            lastTick = ContinuousClock.now
            if keepsUIAhead { BackgroundPriority.lowerOthers(sparing: UIThreadExecutor.shared.threadID) }
            effects += Reducer.reduce(&state, .tick(now()))
            dirty = true
        }
        for effect in effects { perform(effect) }
        performer.insights.setShown(state.view == InsightsModel.view)
        performer.sagas?.setShown(state.view.showsSagas)
        if dirty {
            let updated = ContinuousClock.now
            let frame = Screen.render(state, theme: theme)
            let rendered = ContinuousClock.now
            backend.draw(frame)
            dirty = false
            let written = ContinuousClock.now
            func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15 }
            frameTimes.record(total: ms(written - started), update: ms(updated - started), render: ms(rendered - updated),
                              write: ms(written - rendered), cpu: FrameProfile.threadCPUMillis() - cpuStarted)
        }
    }

    private func perform(_ effect: Effect) {
        if case .copyRecord(let position, let whole) = effect {
            // The terminal is the run loop's: only it may write the clipboard sequence, after a frame.
            let said = RecordClipboard.copy(position, whole: whole, state: state, rules: performer.insights.rules, to: backend)
            Reducer.reduce(&state, .notify(said, isError: false))
            return
        }
        if case .switchContext(let name) = effect {
            requestSwitch(to: name)
            return
        }
        if case .loadTheme(let name) = effect {
            do {
                let loaded = try loadTheme(name)
                theme = noColor ? loaded.withoutColor : loaded
                Reducer.reduce(&state, .themeChanged(loaded.name))
            } catch {
                Reducer.reduce(&state, .notify("theme: \(error)", isError: true))
            }
            return
        }
        if let task = performer.perform(effect, state: state) {
            // Counted, not kept: a long session must not hold a handle per load it ever made.
            pending.count.withLock { $0 += 1 }
            Task.detached { [pending] in
                await task.value
                pending.count.withLock { $0 -= 1 }
            }
        }
    }

    /// Shows `text` in the status line now, outside the run loop's passes (while quitting).
    func say(_ text: String) {
        Reducer.reduce(&state, .notify(text, isError: false))
        backend.draw(Screen.render(state, theme: theme))
    }

    /// Takes one snapshot now and applies it (the run loop's poller does this every refresh).
    public func refresh() async {
        if let playback = performer.source.playback {
            // A recording does not change: its moment is posted again (what a poll of it would see).
            await performer.perform(.movePlayback(to: playback.clock), state: state)?.value
            step(waitMillis: 0)
            return
        }
        await SnapshotPoller.post(from: performer.source.reader, to: performer.mailbox, sampling: performer.insights,
                                  recordTimes: performer.recordTimes, isDeadLetterTopic: state.deadLetterTopics.isDeadLetterTopic)
        step(waitMillis: 0)
    }

    /// Asks for a switch to context `name`: not now, since closing a source awaits its work; the run loop
    /// (or `settle`) switches after this pass, in ``applyPendingSwitch()``.
    func requestSwitch(to name: String) {
        pendingContext = name
    }

    /// Starts the source's background work: polling every `settings.refresh`, indexing, the OTLP receiver
    /// (when the source keeps spans), and the requeue jobs a killed evtop left. A context switch restarts it.
    func startServices(_ settings: ServiceSettings) async {
        services = settings
        performer.redrive.resumeInterrupted()
        if let playback = performer.source.playback {
            // A recording is not polled: its clock moves only when the operator moves it.
            perform(.movePlayback(to: playback.clock))
        } else {
            poller = SnapshotPoller(reader: performer.source.reader, interval: settings.refresh, mailbox: performer.mailbox,
                                    sampling: performer.insights, recordTimes: performer.recordTimes, deadLetterTopics: state.deadLetterTopics).start()
        }
        // The correlation index catches up off the UI thread.
        indexing = performer.sagas.map { SagaIndexing(loader: $0, interval: settings.refresh).start() }
        // Nothing else runs on this actor while the receiver starts (the run loop awaits it): the copy is the state.
        var state = self.state
        receiver = await startDashboardReceiver(settings.otlp, source: performer.source, limits: settings.spanLimits, state: &state)
        self.state = state
    }

    /// Stops the source's background work: the poller and the indexer, the OTLP receiver and the tap
    /// (RabbitMQ: its last batch written, so the server deletes its queue now). A poll, an index batch or a
    /// tap still waiting on a broker that does not answer is waited for at most `grace`, then left to end on
    /// its own (its answers go to a mailbox nobody reads); quitting waits for the tap (`waitingForTheTap`), not the rest.
    func stopServices(grace: Duration = .seconds(1), waitingForTheTap: Bool = false) async {
        performer.redrive.cancel()
        let tasks = [poller, indexing].compactMap { $0 }
        for task in tasks { task.cancel() }
        poller = nil
        indexing = nil
        await receiver?.stop()
        receiver = nil
        // The tap stops once its loader is made: a Kafka index waits up to seconds for a cluster that does not
        // answer to say its id, and a switch away from it does not wait for that beyond `grace`.
        if waitingForTheTap {
            await performer.sagas?.stopTap()
            await Self.wait(for: tasks, upTo: grace)
        } else {
            let tap = performer.sagas.map { sagas in Task.detached { await sagas.stopTap() } }
            await Self.wait(for: tasks + (tap.map { [$0] } ?? []), upTo: grace)
        }
    }

    private static func wait(for tasks: [Task<Void, Never>], upTo grace: Duration) async {
        guard !tasks.isEmpty else { return }
        let done = PendingWork()
        Task.detached {
            for task in tasks { await task.value }
            done.count.withLock { $0 = 1 }
        }
        let deadline = ContinuousClock.now + grace
        while done.count.withLock({ $0 }) == 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Switches to the context `:ctx` asked for, if any, without restarting: opens its source with its
    /// settings (DLQ patterns, correlation rules, saga definitions, theme; `--read-only` stays), closes the
    /// current one (``stopServices(grace:)``), and starts over from a fresh state, so that no figure of the
    /// old source shows under the new one. Refused while a requeue job runs (it is never torn mid-batch);
    /// a context that cannot be opened leaves the current source as it was, and says why.
    public func applyPendingSwitch() async {
        guard let name = pendingContext else { return }
        pendingContext = nil
        guard let contexts else {
            Reducer.reduce(&state, .notify("contexts cannot be switched here", isError: true))
            dirty = true
            return
        }
        let busy = "a requeue is running: let it finish (esc cancels it after its batch), then switch"
        if state.redrive?.isRunning == true {
            Reducer.reduce(&state, .notify(busy, isError: true))
            dirty = true
            return
        }
        if let recording = state.recording {
            Reducer.reduce(&state, .notify("a recording into \(recording.path) runs on this source: :record stop ends it, then switch", isError: true))
            dirty = true
            return
        }
        // The context left, by name only (`context(named: nil)` would be the default one).
        let old = state.viewStates[ContextsState.self].current.flatMap { current in contexts.config?.contexts.first { $0.name == current } }
        let next: (state: AppState, performer: EffectPerformer, context: ContextConfig?)
        do {
            // Everything that can fail comes before anything is closed.
            let resolved = try contexts.resolve(name)
            let (opened, readOnlyBecause) = try resolved.openForDashboard(create: resolved.isDefault)
            var (fresh, performer) = try SessionSetup.make(opened, resolved: resolved, readOnly: contexts.readOnly || readOnlyBecause != nil,
                                                           size: state.size, theme: state.themeName)
            SessionSetup.startingHints(&fresh, resolved: resolved, readOnlyBecause: readOnlyBecause)
            var list = state.viewStates[ContextsState.self]
            list.current = name
            fresh.viewStates[ContextsState.self] = list
            fresh.now = state.now
            next = (fresh, performer, resolved.context)
        } catch {
            Reducer.reduce(&state, .notify("cannot switch to context \(name): \(TerminalSafe.text(error))", isError: true))
            dirty = true
            return
        }
        // A job resumed at start runs without a dialog: the source closes only when none runs (none starts after).
        guard performer.redrive.closeIfIdle() else {
            Reducer.reduce(&state, .notify(busy, isError: true))
            dirty = true
            return
        }
        let running = services
        if running != nil { await stopServices() }
        // A read of the messages view goes to a mailbox nobody reads from now on: it stops.
        performer.messages.stopAll()
        performer = next.performer
        state = next.state
        dirty = true
        var note: String? = "context \(name): \(performer.source.description)"
        if let theme = contexts.theme(switchingFrom: old, to: next.context) {
            perform(.loadTheme(theme))
            // A theme that did not load has said why (the switch itself is done): that message stays.
            note = state.message?.level == .error ? nil : note.map { $0 + " · theme " + state.themeName }
        }
        if let note { Reducer.reduce(&state, .notify(note, isError: false)) }
        if let running { await startServices(running) }
        step(waitMillis: 0)
    }

    /// Steps until every key is handled and every load, job and answer the session started has come
    /// back: what a test or `evtop snapshot` waits for before it looks at the screen. Returns false when
    /// that did not happen within `timeout` (a source that hangs): the screen then shows what has come.
    @discardableResult
    public func settle(timeout: Duration = .seconds(120)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            step(waitMillis: 0)
            await applyPendingSwitch()
            if pending.count.withLock({ $0 }) == 0 {
                // A load that just finished may have posted an answer that plans the next load.
                step(waitMillis: 0)
                if pending.count.withLock({ $0 }) == 0 { return true }
            }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Brings the correlation index up to date (the run loop does it in the background, in batches).
    public func catchUpIndex() async throws {
        try await performer.sagas?.loader.catchUpFully()
    }

    /// The screen as the terminal shows it.
    public var screenText: String { screen.plainText }

    /// The screen as the terminal shows it, with each cell's style.
    var screen: ScreenBuffer { Screen.render(state, theme: theme) }
}

/// Runs only the latest of a series of requests, one at a time: each gets a serial when asked; when its turn
/// comes, one that a later request overtook is dropped.
final class LatestOnly: Sendable {
    private let latest = Mutex(0)

    /// A serial for a new request (it overtakes every earlier one).
    func next() -> Int { latest.withLock { $0 += 1; return $0 } }

    /// Runs `body` if `serial` is still the latest (nil otherwise), holding the lock: no two run at once.
    func ifLatest<T>(_ serial: Int, _ body: () throws -> T) throws -> T? {
        try latest.withLock { current in current == serial ? try body() : nil }
    }
}

/// How many background tasks a session started have not finished.
final class PendingWork: Sendable {
    let count = Mutex(0)
}

/// Polls a source for snapshots at a fixed interval until cancelled.
struct SnapshotPoller {
    let reader: any LogReader
    let interval: Duration
    let mailbox: ActionMailbox
    let sampling: InsightSampling
    /// The record reads time lag needs (partitions no group committed on).
    let recordTimes: RecordTimeCache
    /// The context's DLQ patterns (their records are judged as letters, not sampled as events).
    let deadLetterTopics: DeadLetterTopics

    func start() -> Task<Void, Never> {
        Task.detached { [reader, interval, mailbox, sampling, recordTimes, deadLetterTopics] in
            while !Task.isCancelled {
                await Self.post(from: reader, to: mailbox, sampling: sampling, recordTimes: recordTimes, isDeadLetterTopic: deadLetterTopics.isDeadLetterTopic)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One snapshot, or why there is none, into the mailbox; then the record times time lag lacks (one
    /// read per partition no group committed on, cached); then the records the insights rules sample (a
    /// bounded number, whatever the traffic).
    static func post(from reader: any LogReader, to mailbox: ActionMailbox, sampling: InsightSampling? = nil,
                     recordTimes: RecordTimeCache? = nil,
                     isDeadLetterTopic: @escaping @Sendable (String) -> Bool = { _ in false }) async {
        let snapshot: BrokerSnapshot
        do {
            snapshot = try await reader.snapshot()
        } catch {
            Logger(label: "evtop.poller").warning("snapshot failed: \(error)")
            mailbox.post(.sourceFailed(String(describing: error)))
            return
        }
        mailbox.post(.snapshot(snapshot))
        await recordTimes?.post(snapshot, reader: reader, to: mailbox)
        guard let sampling else { return }
        let declared = snapshot.deadLetterTopics
        let records = await sampling.sample(reader, snapshot: snapshot) { declared.contains($0) || isDeadLetterTopic($0) }
        if !records.isEmpty { mailbox.post(.insightsSampled(records)) }
    }
}

/// What each source of a session gets in the background: how often it is polled, and where the OTLP
/// receiver listens (nil: the default on a source that keeps spans, `off`: none) with its limits.
struct ServiceSettings: Sendable {
    var refresh: Duration
    var otlp: String?
    var spanLimits: SpanLimits
}

/// The interactive loop on a real terminal: the source's background work (polling, indexing, the OTLP
/// receiver, redrive resumption) around a ``DashboardSession``, restarted by context switches, until the
/// user quits or a signal arrives.
@UIActor
enum DashboardRunner {
    static func run<Backend: TerminalBackend>(_ session: DashboardSession<Backend>, services: ServiceSettings,
                                              pendingSignal: () -> Int32?) async throws {
        session.keepsUIAhead = true
        await session.startServices(services)
        BackgroundPriority.lowerOthers(sparing: UIThreadExecutor.shared.threadID)
        while !session.state.shouldQuit {
            if let sig = pendingSignal() {
                // Leave through the normal path: every defer (terminal, simulator) runs, and the tap
                // (RabbitMQ) stops, its last batch written, so the server deletes its queue now.
                Logger(label: "evtop.frames").info("\(session.frameTimes.summary)")
                await session.stopServices(grace: .zero, waitingForTheTap: true)
                throw TerminatedBySignal(signal: sig)
            }
            // The first read waits up to 100 ms for a key (the terminal wakes us at once when one comes:
            // no busy polling, ~10 wake-ups a second when idle; what the background posts shows within 100 ms).
            session.step(waitMillis: 100)
            // `:ctx NAME`: after the pass that asked is drawn (its "switching to …" shows meanwhile).
            await session.applyPendingSwitch()
            await Task.yield()
        }
        Logger(label: "evtop.frames").info("\(session.frameTimes.summary)")
        // A recording `:record` started is finished (spans, index) before the process ends; the screen says so.
        if session.state.recording != nil { session.say("finishing the recording (spans, index)…") }
        await session.performer.recording.finish()
        // Quitting waits for no poll or index batch in flight (the process ends), only for the tap.
        await session.stopServices(grace: .zero, waitingForTheTap: true)
    }
}

/// Keeps the correlation index caught up and answers the sagas views' loads, all off the UI thread.
struct SagaIndexing {
    let loader: PendingSagaLoader
    let interval: Duration
    /// The pause between calls on a quiet log while no sagas view is on screen.
    static let hiddenInterval: Duration = .seconds(3)

    func start() -> Task<Void, Never> {
        Task.detached { [pending = self.loader, interval] in
            let logger = Logger(label: "evtop.index")
            let loader = await pending.loader
            while !Task.isCancelled {
                var pause: Duration?
                do {
                    // Bounded calls; while behind (a busy cluster, or older records still to fill in on a cold
                    // start) the next follows at once, and after a busy log's worth of records soon. A call that
                    // got nowhere, or read what a quiet log writes, waits the interval: no busy loop.
                    pending.indexCallStarted(shownInterval: interval)
                    defer { pending.indexCallEnded() }
                    let progress = try await loader.catchUp()
                    if progress?.shouldContinue == true {
                        pause = .milliseconds(20)
                    } else if progress?.logIsBusy == true {
                        pause = min(interval, .milliseconds(100))
                    }
                } catch {
                    if Task.isCancelled { break }  // quitting or switching sources: nothing went wrong
                    logger.warning("correlation index: \(error)")
                }
                // No sagas view on screen: a call every few seconds is fresh enough (opening one wakes the
                // loop), and a quiet log then costs a third of the passes. Read after the call: a view
                // opened during it finds no sleeper to wake.
                await pending.pause.sleep(for: pause ?? (pending.isShown ? interval : max(interval, Self.hiddenInterval)))
            }
        }
    }

    /// Runs a `.loadSagas` / `.loadSaga` effect and posts the result.
    static func load(_ effect: Effect, loader pending: PendingSagaLoader, mailbox: ActionMailbox) -> Task<Void, Never> {
        Task.detached {
            let loader = await pending.loader
            do {
                if pending.catchUpBeforeLoads { try await loader.catchUpFully() } else { await pending.awaitFreshIndex() }
                switch effect {
                case .loadSagas:
                    let rows = try await loader.recent(limit: SagaModel.maxListRows, now: loader.now)
                    mailbox.post(.sagasLoaded(rows, note: loader.note))
                case .loadSaga(let id):
                    // Whether the index was still catching up is read before the load: it cannot miss what it answers.
                    let indexing = loader.indexing
                    mailbox.post(.sagaLoaded(try await loader.timeline(id: id, now: loader.now), note: loader.note, indexing: indexing))
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
