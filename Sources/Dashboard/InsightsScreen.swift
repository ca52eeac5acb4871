import Foundation
import EventModel
import TerminalUI

/// "What is wrong with how these flows are built?": the insights findings, errors first, with the evidence
/// of the highlighted one in a pane below.
enum InsightsScreen {
    /// Lines of the evidence pane (divider included) when the screen has room.
    static let paneHeight = 9

    static func render(_ state: AppState, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let s = state.viewStates[InsightsState.self]
        let report = s.report
        let rows = InsightsModel.rows(state)
        let total = report?.findings.count ?? 0
        var title = "Insights · " + InsightsModel.headline(report)
        if rows.count != total { title += " · \(rows.count)/\(total) shown" }
        // What the grade rests on (the sort shows as ▼ in the column header).
        let basis = report.map { "\(NumberFormat.grouped(Int64($0.sampledRecords))) records sampled over \(NumberFormat.duration(seconds: $0.observedSeconds))" }
        let area = layout.frame(Block(title: title, rightTitle: basis), into: &buffer, theme: theme)
        guard !area.isEmpty else { return }
        guard let report, !report.isEmpty else {
            let why = state.snapshot == nil ? "waiting for the first snapshot…" : "no record sampled yet: the rules need traffic to judge"
            buffer.put("no data: " + why, x: area.x + 1, y: area.y, style: theme.style(.textDim), maxWidth: area.width - 1)
            return
        }
        // The pane takes the bottom when the table keeps at least 4 rows.
        let pane = area.height - paneHeight >= 5 ? paneHeight : 0
        let tableArea = Rect(x: area.x, y: area.y, width: area.width, height: area.height - pane)
        if rows.isEmpty {
            let text = total == 0 ? "no findings: every rule passed on \(InsightsModel.coverage(report))"
                : "no finding matches the filter “\(state.currentFilter)”"
            buffer.put(text, x: tableArea.x + 1, y: tableArea.y, style: theme.style(.textDim), maxWidth: tableArea.width - 1)
        } else {
            table(rows, state: state, area: tableArea, layout: layout, into: &buffer, theme: theme)
        }
        if pane > 0 {
            let y = area.y + area.height - pane
            // The worst-graded topics ride on the divider: the score per topic at a glance.
            let worst = report.topicScores.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.prefix(6)
            let grades = worst.map { "\($0.key) \(InsightGrade(score: $0.value).rawValue) \($0.value)" }.joined(separator: " · ")
            SagaTimelineScreen.divider(grades.isEmpty ? "evidence" : "evidence ── topics: " + grades, y: y, layout: layout, area: area,
                                       into: &buffer, theme: theme)
            evidence(InsightsModel.highlighted(state), selected: s.evidence, report: report,
                     area: Rect(x: area.x, y: y + 1, width: area.width, height: pane - 1), into: &buffer, theme: theme)
        }
    }

    static func role(_ severity: InsightSeverity) -> Role {
        switch severity {
        case .error: return .lagError
        case .warning: return .lagWarn
        case .info: return .textDim
        }
    }

    static func table(_ rows: [InsightFinding], state: AppState, area: Rect, layout: Layout, into buffer: inout ScreenBuffer, theme: Theme) {
        let s = state.viewStates[InsightsState.self]
        let sortColumn = s.sort.column
        func title(_ name: String) -> String { name == sortColumn ? name + "▼" : name }
        let columns: [TableColumn] = [
            TableColumn(title("SEV"), width: .fixed(4), priority: 100),
            TableColumn(title("RULE"), width: .fixed(16), priority: 90),
            TableColumn(title("WHERE"), width: .flexible(min: 12, weight: 2), priority: 95),
            TableColumn("FINDING", width: .flexible(min: 20, weight: 5), priority: 99),
        ]
        let selected = Reducer.selectedIndex(s.cursor, keys: rows.map(\.key))
        layout.markPosition(selected, of: rows.count, into: &buffer, theme: theme)
        var table = Table(columns: columns, rowCount: rows.count) { i in
            let f = rows[i]
            return TableRowContent(cells: [
                TableCell(f.severity.mark, role: role(f.severity)),
                TableCell(f.rule.rawValue),
                TableCell(f.subject, cutsInTheMiddle: true),
                TableCell(f.summary),
            ], role: nil, isMarked: false)
        }
        table.selectedRow = selected
        table.scrollOffset = Table.scrollOffset(selected: selected, current: s.cursor.scroll, visibleRows: max(0, area.height - 1), rowCount: rows.count)
        table.render(in: area, into: &buffer, theme: theme)
    }

    /// The highlighted finding in full: what, why, and its evidence (the selected item marked `›`).
    static func evidence(_ finding: InsightFinding?, selected: Int, report: InsightReport, area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        guard let finding, area.height > 0 else { return }
        var y = area.y
        let x = area.x + 1, width = area.width - 1
        var head = "\(finding.severity) · \(finding.rule.rawValue) · \(finding.subject)"
        if let topic = finding.topic, let score = report.topicScores[topic] {
            head += " · \(topic) grade \(InsightGrade(score: score).rawValue) (\(score))"
        }
        buffer.put(head, x: x, y: y, style: theme.style(role(finding.severity)), maxWidth: width)
        y += 1
        for line in DetailLine(finding.summary).wrapped(to: width).prefix(2) where y < area.maxY {
            buffer.put(line.text, x: x, y: y, style: theme.style(.text), maxWidth: width)
            y += 1
        }
        // The advice keeps two lines at most: the evidence below matters more.
        for line in DetailLine(finding.rule.advice).wrapped(to: width).prefix(2) where y < area.maxY {
            buffer.put(line.text, x: x, y: y, style: theme.style(.textDim), maxWidth: width)
            y += 1
        }
        let chosen = min(max(0, selected), max(0, finding.evidence.count - 1))
        for (i, item) in finding.evidence.enumerated() where y < area.maxY {
            let mark = i == chosen ? "›" : " "
            let style = theme.style(i == chosen ? .textAccent : .text)
            buffer.put("\(mark) \(item.target)", x: x, y: y, style: style, maxWidth: width)
            let targetWidth = min(width / 2, TextWidth.of("\(mark) \(item.target)") + 2)
            buffer.put(item.note, x: x + targetWidth, y: y, style: theme.style(.textDim), maxWidth: max(0, width - targetWidth))
            y += 1
        }
        if finding.evidence.isEmpty, y < area.maxY {
            buffer.put("no record to show: the figures above are the evidence", x: x, y: y, style: theme.style(.textDim), maxWidth: width)
        }
    }
}

/// View 5: the insights findings.
enum InsightsViews {
    static let evidenceKeys = KeyBinding([.char("J"), .char("K")], "J K", "next / previous evidence") { state, key in
        let count = InsightsModel.highlighted(state)?.evidence.count ?? 0
        var s = state.viewStates[InsightsState.self]
        s.evidence = min(max(0, s.evidence + (key == .char("J") ? 1 : -1)), max(0, count - 1))
        state.viewStates[InsightsState.self] = s
        return []
    }

    static let registration = ViewRegistration(
        name: "insights", summary: "findings of the insights rules, graded", helpSection: "Insights", numberKey: "5",
        verbs: ["insights", "insight", "doctor"],
        form: .fixed(InsightsModel.view),
        bindings: [evidenceKeys],
        hints: [GlobalKeys.viewsHint, GlobalKeys.enterHint, evidenceKeys.hint("J/K", "evidence"), GlobalKeys.filterHint,
                GlobalKeys.sortHint, GlobalKeys.helpHint, GlobalKeys.quitHint],
        navigation: .table(TableAccess(keys: { state, _ in InsightsModel.rows(state).map(\.key) },
                                       cursor: { $0.viewStates[InsightsState.self].cursor },
                                       setCursor: { state, cursor in
                                           // Another finding: its evidence starts at the first item.
                                           if cursor.selectedKey != state.viewStates[InsightsState.self].cursor.selectedKey {
                                               state.viewStates[InsightsState.self].evidence = 0
                                           }
                                           state.viewStates[InsightsState.self].cursor = cursor
                                       })),
        drillIn: DrillIn(label: "open evidence") { state, _ in
            guard let finding = InsightsModel.highlighted(state), !finding.evidence.isEmpty else { return }
            let i = min(state.viewStates[InsightsState.self].evidence, finding.evidence.count - 1)
            InsightsModel.open(finding.evidence[i], &state)
        },
        sort: SortControl(cycle: { state in
            let next = Reducer.next(state.viewStates[InsightsState.self].sort)
            state.viewStates[InsightsState.self].sort = next
            return "sorted by \(next.rawValue)"
        }, reverse: { _ in }),
        plannedLoads: InsightsModel.plannedLoads,
        render: { state, _, layout, buffer, theme in InsightsScreen.render(state, layout: layout, into: &buffer, theme: theme) })
}
