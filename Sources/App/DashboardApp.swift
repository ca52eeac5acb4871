import Foundation
import Logging
import EventModel
import TerminalUI
import NCursesTerminal
import Dashboard
import OTLPReceiver

/// How the dashboard looks and how often it refreshes.
public struct DisplaySettings: Sendable {
    /// Theme name or path (nil: the config's, else default).
    public var theme: String?
    /// Seconds between source polls.
    public var refresh: Double
    /// True when NO_COLOR asks for no colour.
    public var noColor: Bool

    /// Creates settings; `noColor` defaults to whether NO_COLOR is set to anything non-empty (no-color.org).
    public init(theme: String?, refresh: Double, noColor: Bool? = nil) {
        self.theme = theme
        self.refresh = refresh
        self.noColor = noColor ?? (Paths.nonEmpty(Paths.environment["NO_COLOR"]) != nil)
    }

    /// The theme to start with: this one, else the context's, else the config's, else default.
    func loadTheme(config: ConfigFile?, context: ContextConfig? = nil) throws -> Theme {
        try ThemeCatalog.load(theme ?? context?.theme ?? config?.theme ?? "default")
    }

    var refreshDuration: Duration { .milliseconds(Int(refresh * 1000)) }
}

/// `evtop` (the dashboard): opens the source and runs the interactive session on the terminal.
public enum DashboardApp {
    /// Runs the dashboard until the user quits. `follow` opens a timeline; `otlp` is the receiver's
    /// address (nil: the default on a writable embedded store, `off`: none).
    public static func run(source: SourceSelection, display: DisplaySettings, follow: String?, otlp: String?,
                           spanLimits: SpanLimits) async throws {
        HeapPolicy.forLongRunning()
        let resolved = try source.resolve()
        let theme = try display.loadTheme(config: resolved.config, context: resolved.context)
        // Only the dashboard creates the default store (an empty one says how to fill it).
        // A store that cannot be written opens read-only, and says so.
        let (opened, readOnlyBecause) = try resolved.openForDashboard(create: resolved.isDefault)
        var (state, performer) = try SessionSetup.make(opened, resolved: resolved, readOnly: source.readOnly || readOnlyBecause != nil,
                                                       size: Size(width: 80, height: 24), theme: theme.name)
        SessionSetup.startingHints(&state, resolved: resolved, readOnlyBecause: readOnlyBecause)
        let contexts = ContextCatalog(selection: source, config: resolved.config, themeOverride: display.theme)
        state.viewStates[ContextsState.self] = contexts.state(current: ContextCatalog.startingContext(source, resolved))
        if let follow { Reducer.openSaga(&state, follow, following: true) }
        // The OTLP receiver, like the poller and the indexer, belongs to the source: a context switch restarts it.
        try await onTerminal(performer: performer, state: state, theme: theme, display: display, contexts: contexts,
                             services: ServiceSettings(refresh: display.refreshDuration, otlp: otlp, spanLimits: spanLimits))
    }

    /// Runs a session on the real terminal (ncurses), restoring it however the session ends. `contexts`
    /// lets `:ctx` switch sources (nil: it cannot); `services` is the background work each source gets.
    @UIActor
    static func onTerminal(performer: EffectPerformer, state: AppState, theme: Theme, display: DisplaySettings,
                           contexts: ContextCatalog?, services: ServiceSettings) async throws {
        let backend = try NCursesBackend(noColor: display.noColor)
        defer { backend.restore() }
        let session = DashboardSession(backend: backend, state: state, theme: theme, noColor: display.noColor, performer: performer,
                                       contexts: contexts)
        try await DashboardRunner.run(session, services: services, pendingSignal: { backend.pendingTerminationSignal })
    }

    /// A session on any terminal for `source`, as the dashboard makes it (tests drive it with keys, and
    /// switch its contexts). Its background work (polling, indexing) does not run: tests call `refresh`.
    @UIActor
    public static func session<Backend: TerminalBackend>(on backend: Backend, source: SourceSelection, theme: Theme = .fallback)
        async throws -> DashboardSession<Backend> {
        let resolved = try source.resolve()
        var (state, performer) = try SessionSetup.make(try resolved.open(), resolved: resolved, readOnly: source.readOnly,
                                                       size: backend.size, theme: theme.name)
        let contexts = ContextCatalog(selection: source, config: resolved.config, themeOverride: nil)
        state.viewStates[ContextsState.self] = contexts.state(current: ContextCatalog.startingContext(source, resolved))
        return DashboardSession(backend: backend, state: state, theme: theme, noColor: false, performer: performer,
                                loadTheme: ThemeCatalog.load, contexts: contexts)
    }

    /// Re-raises a signal that ended the dashboard, once the terminal is restored.
    public static func reraise(_ signal: Int32) { NCursesBackend.reraise(signal) }
}

/// What every dashboard session starts from, whoever starts it (the dashboard, the demo, `evtop snapshot`,
/// tests): the first state and what carries out its effects.
enum SessionSetup {
    /// The state (the context's DLQ patterns, the local UTC offset) and the effect performer for `opened`.
    /// `indexReadOnly` decides whether a store's own correlation index may be written (default: `readOnly`);
    /// `catchUpBeforeSagaLoads` makes saga loads index everything first (for one-shot screens).
    static func make(_ opened: OpenedSource, resolved: ResolvedSource?, readOnly: Bool, indexReadOnly: Bool? = nil,
                     size: Size, theme: String, mailbox: ActionMailbox = ActionMailbox(),
                     catchUpBeforeSagaLoads: Bool = false) throws -> (state: AppState, performer: EffectPerformer) {
        var state = AppState.initial(source: opened.description, context: resolved?.context, size: size, readOnly: readOnly, theme: theme)
        state.lettersAreQueued = opened.lettersAreQueued
        if let playback = opened.playback {
            state.playback = PlaybackState(start: playback.recorded.lowerBound, end: playback.recorded.upperBound, clock: playback.clock,
                                           omissions: playback.omissions)
            state.now = playback.clock
            state.readOnly = true
        }
        let assembler = try resolved?.sagaAssembler() ?? SagaSetup.assembler(context: nil, configPath: nil)
        // A Kafka index is named after the cluster's id, asked for in the background on first use: a
        // cluster that is down then gets the bounded scan for this session, and no frame waits for it.
        let indexReadOnly = indexReadOnly ?? readOnly
        let sagas = PendingSagaLoader(catchUpBeforeLoads: catchUpBeforeSagaLoads) {
            // The dashboard indexes newest first; a one-shot screen wants everything before it draws.
            await SagaLoader.make(opened, readOnly: indexReadOnly, assembler: assembler,
                                  recentFirst: catchUpBeforeSagaLoads ? nil : SagaLoader.recentFirst)
        }
        InsightsModel.configure(&state, settings: resolved?.context?.insights ?? InsightSettings())
        return (state, EffectPerformer(source: opened, readOnly: readOnly, mailbox: mailbox, sagas: sagas,
                                       insights: InsightSampling(rules: assembler.rules, hiddenPerTick: InsightSampling.hiddenBudget)))
    }

    /// The standing hints of a dashboard source: how to fill an empty default store, why a store opened read-only.
    static func startingHints(_ state: inout AppState, resolved: ResolvedSource, readOnlyBecause: String?) {
        if resolved.isDefault {
            state.hint = "empty store: run `evtop demo`, or attach with --broker URL"
        }
        if let readOnlyBecause { state.hint = readOnlyBecause + "; opened read-only" }
    }

}
