import Foundation
import EventModel
import TerminalUI

/// One broker of a cluster as the snapshot's partition metadata shows it (Kafka): what it leads, what it
/// holds, and what it holds out of sync.
public struct BrokerRow: Sendable, Hashable {
    /// Broker id.
    public var id: Int32
    /// False when the last snapshot found it down.
    public var isUp: Bool
    /// Partitions it leads.
    public var leads: Int
    /// Partitions it holds a replica of.
    public var replicas: Int
    /// Of those, replicas not in the in-sync set.
    public var outOfSync: Int
    /// True for the cluster's controller.
    public var isController: Bool = false
}

/// The cluster's health from partition metadata: pure, O(partitions) once per snapshot.
public struct ClusterHealth: Sendable, Hashable {
    /// Brokers by id.
    public var brokers: [BrokerRow]
    /// Partitions with fewer in-sync replicas than replicas.
    public var underReplicated: [TopicPartition]
    /// Partitions without a leader, or whose leader is down.
    public var offline: [TopicPartition]
    /// Partitions in all.
    public var partitions: Int
    /// The controller's id, nil when the cluster did not say.
    public var controller: Int32?
}

/// Derivations for the brokers view.
public enum BrokersModel {
    /// The cluster's brokers and partition health, or nil when the source reports no replication (not Kafka).
    public static func health(_ snapshot: BrokerSnapshot?) -> ClusterHealth? {
        guard let snapshot, snapshot.topics.contains(where: TopicsModel.hasReplication) else { return nil }
        let down = Set(snapshot.brokers?.down ?? [])
        var rows: [Int32: BrokerRow] = [:]
        func touch(_ id: Int32) -> Int32 {
            if rows[id] == nil { rows[id] = BrokerRow(id: id, isUp: !down.contains(id), leads: 0, replicas: 0, outOfSync: 0) }
            return id
        }
        var under: [TopicPartition] = [], offline: [TopicPartition] = []
        var count = 0
        for topic in snapshot.topics {
            for p in topic.partitions {
                count += 1
                let tp = TopicPartition(topic.name, p.partition)
                if let leader = p.leader { rows[touch(leader)]?.leads += 1 }
                if p.leader.map({ down.contains($0) }) ?? true { offline.append(tp) }
                let inSync = Set(p.inSyncReplicas ?? [])
                for r in p.replicas ?? [] {
                    rows[touch(r)]?.replicas += 1
                    if p.inSyncReplicas != nil, !inSync.contains(r) { rows[touch(r)]?.outOfSync += 1 }
                }
                if let isr = p.inSyncReplicas, let replicas = p.replicas, isr.count < replicas.count { under.append(tp) }
            }
        }
        for id in down { _ = touch(id) }
        let controller = snapshot.brokers?.controller
        if let controller { rows[controller]?.isController = true }  // a row only for a broker something names
        return ClusterHealth(brokers: rows.values.sorted { $0.id < $1.id }, underReplicated: under, offline: offline,
                             partitions: count, controller: controller)
    }
}

/// `:brokers`: a Kafka cluster's brokers, and its under-replicated and offline partitions.
enum BrokersScreen {
    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let health = BrokersModel.health(state.snapshot)
        var title = "Brokers"
        if let h = health {
            title += " · controller " + (h.controller.map { String($0) } ?? "unknown")
            title += " · \(h.underReplicated.count) under-replicated · \(h.offline.count) offline of \(NumberFormat.grouped(Int64(h.partitions))) partitions"
        }
        let area = layout.frame(Block(title: title, rightTitle: SidePane.backTitle(state)), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard let health else {
            let text = state.snapshot == nil ? Screen.noData(state) : "this source reports no brokers (only Kafka does)"
            buffer.put(text, x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        let columns: [TableColumn] = [
            TableColumn("BROKER", width: .fixed(7), alignment: .right, priority: 100),
            TableColumn("STATUS", width: .fixed(6), priority: 95),
            TableColumn("LEADS", width: .fixed(9), alignment: .right, priority: 90),
            TableColumn("REPLICAS", width: .fixed(9), alignment: .right, priority: 80),
            TableColumn("OUT OF SYNC", width: .fixed(11), alignment: .right, priority: 85),
            TableColumn("ROLE", width: .fixed(10), priority: 92),
            TableColumn("", width: .flexible(min: 0, weight: 1), priority: 1),
        ]
        let rows = health.brokers
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let b = rows[i]
            return TableRowContent(cells: [
                TableCell(String(b.id)),
                TableCell(b.isUp ? "up" : "DOWN", role: b.isUp ? .lagOK : .lagStop),
                TableCell(NumberFormat.grouped(Int64(b.leads))),
                TableCell(NumberFormat.grouped(Int64(b.replicas))),
                TableCell(NumberFormat.grouped(Int64(b.outOfSync)), role: b.outOfSync > 0 ? .lagWarn : .rateZero),
                TableCell(b.isController ? "controller" : "", role: .text),
                TableCell(""),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = nil  // nothing to act on: no cursor
        let tableHeight = min(area.height, rows.count + 1)
        table.render(in: Rect(x: area.x, y: area.y, width: area.width, height: tableHeight), into: &buffer, theme: theme)
        // Below the brokers: the partitions that need attention, offline first.
        var y = area.y + tableHeight + 1
        func line(_ text: String, _ role: Role) {
            guard y < area.y + area.height else { return }
            buffer.put(text, x: area.x, y: y, style: theme.style(role), maxWidth: area.width)
            y += 1
        }
        if health.offline.isEmpty && health.underReplicated.isEmpty {
            line("every partition has a live leader and all its replicas in sync", .lagOK)
            return
        }
        for (label, list, role) in [("offline (no live leader)", health.offline, Role.lagStop),
                                    ("under-replicated", health.underReplicated, Role.lagWarn)] where !list.isEmpty {
            line("\(label): \(list.count)", role)
            let room = max(0, area.y + area.height - y - 1)
            for tp in list.prefix(room) { line("  \(tp.topic) p\(tp.partition)", .text) }
            if list.count > room { line("  … \(list.count - room) more", .textDim) }
        }
    }

    static let registration = ViewRegistration(
        name: "brokers", summary: "a Kafka cluster's brokers and partition health", helpSection: "Topics",
        verbs: ["brokers", "cluster"], form: .fixed(.registered(name: "brokers", argument: "")),
        hints: [GlobalKeys.backHint, GlobalKeys.pauseHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .custom(move: { _, _, _ in }),
        render: { state, _, layout, buffer, theme in render(state, layout: layout, into: &buffer, theme: theme) })
}
