import Foundation
import EventModel
import TerminalUI
import Dashboard

/// `evtop snapshot`: one rendered dashboard screen as plain text, made by a dashboard session on an
/// in-memory terminal: the same loads, reducer and screens as the interactive dashboard.
public enum SnapshotReport {
    /// Renders `view` (a view spec such as `topics` or `letters:orders.DLT`) at `width`×`height`, with rates
    /// from two snapshots `interval` seconds apart.
    @MainActor
    public static func render(source: SourceSelection, view: String, width: Int, height: Int, interval: Double) async throws -> String {
        var source = source
        source.readOnly = true
        let target = try ViewSpec.parse(view)
        if case .groupPartitions(let group) = target { source.groups.append(group) }
        let backend = TestBackend(width: width, height: height)
        let session = try await DashboardApp.session(on: backend, source: source)
        session.show(target)
        // Sagas come from an index brought up to date first, as `evtop saga` does.
        try await session.catchUpIndex()
        await session.refresh()
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            await session.refresh()
        }
        await session.settle()
        return session.screenText
    }
}

extension DashboardSession {
    /// Shows `view` directly, as if navigated to.
    func show(_ view: ViewID) {
        state.view = view
    }
}

/// TEMPORARY until the view registry's parser lands.
enum ViewSpec {
    static func parse(_ spec: String) throws -> ViewID {
        switch spec {
        case "topics": return .topics
        case "lag": return .lag
        case "sagas": return .sagas
        case "dlq": return .deadLetters
        case let v where v.hasPrefix("partitions:"): return .partitions(topic: String(v.dropFirst("partitions:".count)))
        case let v where v.hasPrefix("group:"): return .groupPartitions(group: String(v.dropFirst("group:".count)))
        case let v where v.hasPrefix("saga:"): return .sagaTimeline(id: String(v.dropFirst("saga:".count)))
        case let v where v.hasPrefix("letters:"): return .deadLetterList(topic: String(v.dropFirst("letters:".count)))
        default: throw UsageError("unknown view '\(spec)' (this build renders: topics, lag, partitions:TOPIC, group:GROUP, sagas, saga:ID, dlq, letters:TOPIC)")
        }
    }
}
