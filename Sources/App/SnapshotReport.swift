import Foundation
import EventModel
import TerminalUI
import Dashboard

/// `evtop snapshot`: one rendered dashboard screen as plain text, made by a dashboard session on an
/// in-memory terminal: the same loads, reducer and screens as the interactive dashboard.
public enum SnapshotReport {
    /// Renders `view` (a view spec such as `topics` or `letters:orders.DLT`) at `width`×`height`, with rates
    /// from two snapshots `interval` seconds apart, in `theme` (a name or path; nil: the context's, else the
    /// config's, else default, as the dashboard): an unknown theme fails as it does there.
    @UIActor
    public static func render(source: SourceSelection, view: String, width: Int, height: Int, interval: Double,
                              theme: String? = nil) async throws -> String {
        try await screen(source: source, view: view, width: width, height: height, interval: interval, theme: theme).plainText
    }

    /// The screen ``render(source:view:width:height:interval:theme:)`` prints, with each cell's style.
    @UIActor
    static func screen(source: SourceSelection, view: String, width: Int, height: Int, interval: Double,
                       theme themeName: String?) async throws -> ScreenBuffer {
        var source = source
        let target: ViewID
        do { target = try ViewRegistry.parse(view) } catch { throw UsageError(String(describing: error)) }
        if case .groupPartitions(let group) = target { source.groups.append(group) }
        let resolved = try source.resolve()
        let theme = try DisplaySettings(theme: themeName, refresh: 1).loadTheme(config: resolved.config, context: resolved.context)
        // The source is only read; a store's own index is still kept unless --read-only (as `evtop saga`),
        // and saga loads catch it up first. Views without sagas never make the loader.
        var (state, performer) = try SessionSetup.make(try resolved.open(readOnly: true), resolved: resolved, readOnly: true,
                                                       indexReadOnly: source.readOnly, size: Size(width: width, height: height),
                                                       theme: theme.name, catchUpBeforeSagaLoads: true)
        // `--view ctx` lists the contexts (one screen: nothing switches).
        state.viewStates[ContextsState.self] = ContextCatalog(selection: source, config: resolved.config, themeOverride: nil)
            .state(current: ContextCatalog.startingContext(source, resolved))
        let backend = TestBackend(width: width, height: height)
        let session = DashboardSession(backend: backend, state: state, theme: theme, noColor: false, performer: performer)
        session.show(target)
        await session.refresh()
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            await session.refresh()
        }
        if !(await session.settle()) {
            FileHandle.standardError.write(Data("evtop snapshot: some loads did not finish in time; the screen shows what had come\n".utf8))
        }
        return session.screen
    }
}

extension DashboardSession {
    /// Shows `view` directly, as if navigated to.
    func show(_ view: ViewID) {
        state.view = view
    }
}
