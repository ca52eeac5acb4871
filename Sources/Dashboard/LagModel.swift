import Foundation
import EventModel
import TerminalUI

/// Pure derivations for the lag views: rows, formatting and status roles.
public enum LagModel {
    /// Group rows, filtered by the lag filter (on group id and topics) and sorted.
    public static func rows(_ state: AppState) -> [GroupLag] {
        let pattern = state.filters[ViewID.lag.name] ?? ""
        let filter = RowFilter(pattern)
        let rows = pattern.isEmpty ? state.groupLags : state.groupLags.filter {
            filter.matches($0.id + " " + $0.topics.joined(separator: " ") + " " + $0.status.description)
        }
        return sorted(rows, by: state.lagSort, descending: state.lagSortDescending)
    }

    /// Group rows sorted by a column, ties by group id.
    public static func sorted(_ rows: [GroupLag], by key: LagSortKey, descending: Bool) -> [GroupLag] {
        func value(_ g: GroupLag) -> Double {
            switch key {
            case .status: return Double(g.status.rawValue) * 1e15 + Double(g.totalLag ?? 0)
            case .group: return 0
            case .lag: return g.totalLag.map(Double.init) ?? -1
            case .behind: return g.secondsBehind ?? -1
            case .members: return Double(g.members)
            }
        }
        let keys = rows.map(value)
        let order = rows.indices.sorted { i, j in
            if key != .group, keys[i] != keys[j] { return descending ? keys[i] > keys[j] : keys[i] < keys[j] }
            if key == .group, descending { return rows[i].id > rows[j].id }
            return rows[i].id < rows[j].id
        }
        return order.map { rows[$0] }
    }

    /// One group's partitions, worst first, filtered by the group view's filter.
    public static func partitionRows(_ state: AppState, group: String) -> [PartitionLag] {
        guard let g = state.groupLags.first(where: { $0.id == group }) else { return [] }
        let filter = RowFilter(state.filters[ViewID.groupPartitions(group: group).name] ?? "")
        return g.partitions
            .filter { filter.matches("\($0.topic) \($0.partition) \($0.status)") }
            .sorted { a, b in
                if a.status != b.status { return a.status > b.status }
                if a.lag != b.lag { return (a.lag ?? -1) > (b.lag ?? -1) }
                return (a.topic, a.partition) < (b.topic, b.partition)
            }
    }

    /// Row key of a partition in the drill-down.
    public static func key(_ p: PartitionLag) -> String { "\(p.topic)/\(p.partition)" }

    /// The theme role for a status.
    public static func role(_ status: LagStatus) -> Role {
        switch status {
        case .ok: return .lagOK
        case .unknown: return .textDim
        case .warn: return .lagWarn
        case .stall: return .lagStall
        case .stop: return .lagStop
        case .rewind: return .lagRewind
        case .error: return .lagError
        }
    }

    /// `↑ +21/s`, `↓ −5/s`, `→ 0/s`.
    public static func trend(_ trend: LagTrend) -> String {
        switch trend {
        case .growing(let r): return "↑ +" + NumberFormat.rate(r) + "/s"
        case .shrinking(let r): return "↓ −" + NumberFormat.rate(r) + "/s"
        case .steady: return "→ 0/s"
        case .unsettled: return "–"
        case .unknown: return unknown
        }
    }

    /// How a figure the broker does not report is shown (see ``unknownLegend``); "–" stays "not enough data yet".
    public static let unknown = "?"
    /// The meaning of ``unknown``, shown wherever a view shows one.
    public static let unknownLegend = "? not reported by the broker"

    /// A lag figure: grouped digits, `≥` when it leaves out partitions whose lag is unknown, ``unknown`` when nil.
    public static func lag(_ value: Int64?, lowerBound: Bool = false) -> String {
        guard let value else { return unknown }
        return (lowerBound ? "≥" : "") + NumberFormat.grouped(value)
    }

    /// True when some group shows a figure as ``unknown`` (its lag, status, trend or time behind).
    public static func showsUnknown(_ groups: [GroupLag]) -> Bool {
        groups.contains { g in
            g.lagUnknownPartitions > 0 || g.status == .unknown || g.partitions.contains(where: behindUnreported)
        }
    }

    /// True when a partition's time behind is unknown because its broker does not give what it takes
    /// (its lag, or for a queue without positions the age of its oldest message), not for want of history.
    static func behindUnreported(_ p: PartitionLag) -> Bool {
        guard p.secondsBehind == nil, p.lag != 0 else { return false }
        guard let reported = p.reported else { return p.lag == nil }
        return p.lag == nil || (reported.oldestPendingMillis == nil && (p.committed == nil || p.high == nil))
    }

    /// A group's time behind: as ``behind(_:lowerBound:)``, or ``unknown`` when no partition knows it
    /// and some partition's broker does not report it.
    public static func behind(_ group: GroupLag) -> String {
        if group.secondsBehind == nil, group.partitions.contains(where: behindUnreported) { return unknown }
        return behind(group.secondsBehind, lowerBound: group.secondsBehindIsLowerBound)
    }

    /// A partition's time behind: as ``behind(_:lowerBound:)``, or ``unknown`` when its broker does not report it.
    public static func behind(_ partition: PartitionLag) -> String {
        behindUnreported(partition) ? unknown : behind(partition.secondsBehind, lowerBound: partition.secondsBehindIsLowerBound)
    }

    /// Time behind: `–` unknown, `>5m` when only a lower bound is known.
    public static func behind(_ seconds: Double?, lowerBound: Bool) -> String {
        guard let seconds else { return "–" }
        // A lower bound under a second only says the history is too short to know.
        if lowerBound && seconds < 1 { return "–" }
        return (lowerBound ? ">" : "") + NumberFormat.duration(seconds: seconds)
    }

    /// Time to catch up: `now` when there is no lag, `never` when it grows, `–` when there is not
    /// enough data yet, ``unknown`` when some partition's lag is not reported.
    /// The LAST COMMIT cell: `12s ago`; `≥ 11s ago` when evtop has not seen a commit happen since it started
    /// watching (Kafka keeps no commit time an assign-only reader can see); `never` for a partition with no
    /// commit; unknown for a broker-reported partition without a progress figure.
    public static func lastCommit(_ p: PartitionLag) -> String {
        guard let age = p.lastCommitAgeSeconds else { return p.basis == .reported ? unknown : "never" }
        return (p.lastCommitAgeIsLowerBound ? "≥ " : "") + NumberFormat.duration(seconds: age) + " ago"
    }

    public static func catchUp(_ group: GroupLag) -> String {
        if group.lagUnknownPartitions > 0 { return unknown }
        if group.totalLag == 0 { return "now" }
        guard let s = group.catchUpSeconds else {
            // Only a growing lag means never; otherwise there is not enough signal to say.
            if case .growing = group.trend { return "never" }
            return "–"
        }
        return s == 0 ? "now" : NumberFormat.duration(seconds: s)
    }

    /// Groups whose status is not OK.
    public static func notOK(_ state: AppState) -> Int { state.groupLags.filter { $0.status != .ok }.count }
}
