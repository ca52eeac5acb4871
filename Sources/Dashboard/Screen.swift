import Foundation
import EventModel
import TerminalUI

/// Text spans of the header and status lines (EventModel has a `Span` too: the OpenTelemetry one).
private typealias Span = TerminalUI.Span

/// Draws whole frames: `state + theme -> ScreenBuffer`. Pure; tests compare its text with golden files.
public enum Screen {
    /// Renders the frame for `state` at `state.size`.
    /// What a view without a snapshot says: waiting, or no data since the source went down (and why).
    static func noData(_ state: AppState) -> String {
        guard case .down(let reason) = state.connection else { return "waiting for the first snapshot…" }
        var text = "no data: the source is down"
        if let since = state.downSince {
            text += " since " + Clock.hms(since, utcOffsetSeconds: state.utcOffsetSeconds)
                + ", " + NumberFormat.duration(seconds: max(0, state.now.timeIntervalSince(since)))
        }
        return text + " (" + reason + ")"
    }

    public static func render(_ state: AppState, theme: Theme) -> ScreenBuffer {
        var buffer = ScreenBuffer(width: state.size.width, height: state.size.height, fill: Cell(" ", style: theme.style(.text)))
        let layout = Layout(size: state.size)
        HeaderBar.render(state, in: layout.header, into: &buffer, theme: theme)
        if let pane = SidePane.split(state, layout: layout) {
            ViewRegistry.registration(for: state.view).render(state, state.view, pane.main, &buffer, theme)
            ViewRegistry.registration(for: pane.preview.view).render(pane.preview, pane.preview.view, pane.side, &buffer, theme)
        } else {
            ViewRegistry.registration(for: state.view).render(state, state.view, layout, &buffer, theme)
        }
        StatusBar.render(state, in: layout.status, into: &buffer, theme: theme)
        RedriveModel.render(state, in: layout.content, into: &buffer, theme: theme)
        if let question = state.confirmation {
            Dialog(title: question.title, lines: question.lines, hint: "y yes · n or esc no").render(in: layout.content, into: &buffer, theme: theme)
        }
        if state.showHelp {
            HelpScreen.overlay(state).render(in: layout.content, into: &buffer, theme: theme)
        }
        return buffer
    }
}

/// The top line: who we watch, whether it answers, what is there, and the time.
enum HeaderBar {
    static func render(_ state: AppState, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        guard !area.isEmpty else { return }
        // Right side first: counts and clock are what changes; the source path yields space to them.
        var right: [TerminalUI.Span] = []
        if let snapshot = state.snapshot {
            let dead = TopicsModel.cachedDeadLetterCount(state)
            let wide = area.width >= 100
            let (topics, groups) = (snapshot.topics.count, snapshot.groups.count)
            let noun = TopicsModel.showsQueues(state) ? "queue" : "topic"
            var counts = "\(NumberFormat.grouped(Int64(topics))) \(noun)\(topics == 1 ? "" : "s") · "
                + "\(NumberFormat.grouped(Int64(groups))) group\(groups == 1 ? "" : "s")"
            if dead > 0 { counts += " · \(NumberFormat.grouped(dead)) \(wide ? (dead == 1 ? "dead letter" : "dead letters") : "in DLQ")" }
            right.append(TerminalUI.Span(text: counts + (wide ? "   " : "  "), role: .header))
        }
        right.append(TerminalUI.Span(text: Clock.hms(state.now, utcOffsetSeconds: state.utcOffsetSeconds) + " ", role: .header))

        var connection: TerminalUI.Span
        switch state.connection {
        case .connecting: connection = TerminalUI.Span(text: " ○ connecting", role: .header)
        case .live where state.playback != nil:
            // A recording: which day, and where the frozen clock stands in it ([ ] move it).
            let playback = state.playback ?? PlaybackState(start: state.now, end: state.now, clock: state.now)
            // Below 120 columns only where the clock stands is kept: it is what the keys change.
            let text = area.width >= 120
                ? "recorded " + Clock.ymd(playback.clock, utcOffsetSeconds: state.utcOffsetSeconds) + " · " + playback.position
                : playback.shortPosition
            connection = TerminalUI.Span(text: " ⏸ " + text, role: .paused)
        case .live:
            if let b = state.snapshot?.brokers, b.isPartial {
                // Some brokers down: their partitions keep their last figures (each shows its age).
                connection = TerminalUI.Span(text: " ◐ \(b.up)/\(b.total) brokers", role: .connectionDown)
            } else {
                connection = TerminalUI.Span(text: " ● live", role: .connectionLive)
            }
        case .down(let why):
            // How long, then why: the clock on the right keeps ticking, so the operator sees the outage grow.
            let since = state.downSince.map { " " + NumberFormat.duration(seconds: max(0, state.now.timeIntervalSince($0))) } ?? ""
            connection = TerminalUI.Span(text: " ✗ down\(since): " + why, role: .connectionDown)
        }
        let title = TerminalUI.Span(text: " evtop ", role: .headerTitle)
        // Modes that change what keys do are always in sight.
        let paused = (state.paused ? [TerminalUI.Span(text: " ⏸ PAUSED ", role: .paused)] : [])
            + (state.readOnly ? [TerminalUI.Span(text: " READ-ONLY ", role: .paused)] : [])
            + (state.recording.map { [TerminalUI.Span(text: " ⏺ REC " + ($0.elapsed.map { $0 + " " } ?? ""), role: .paused)] } ?? [])
        // The clock and counts stay: a long cause of an outage is cut to the room left beside them
        // (at least 8 columns for the source), never pushing them off the line.
        let others = ([title] + paused + right).reduce(0) { $0 + TextWidth.of($1.text) } + 9
        if TextWidth.of(connection.text) > area.width - others {
            connection.text = TextWidth.truncated(connection.text, to: max(8, area.width - others))
        }
        let fixed = [title, connection] + paused + right
        let used = fixed.reduce(0) { $0 + TextWidth.of($1.text) } + 2
        let sourceRoom = max(8, area.width - used)
        let source = TerminalUI.Span(text: " " + sourceText(state, width: sourceRoom - 1), role: .headerSource)
        StatusLine(left: [title, source, connection] + paused, right: right, fill: .header)
            .render(in: area, into: &buffer, theme: theme)
    }

    /// The source, after the name of the context it came from (`prod · kafka://k1:9092`); the URL yields
    /// space before the name does.
    static func sourceText(_ state: AppState, width: Int) -> String {
        guard let context = state.viewStates[ContextsState.self].current else { return middleTruncated(state.source, to: width) }
        let name = TextWidth.sanitized(context)
        let room = width - TextWidth.of(name) - 3
        return room >= 8 ? name + " · " + middleTruncated(state.source, to: room) : middleTruncated(name, to: width)
    }

    /// Cuts the middle out of a long source, keeping scheme and file name: `sqlite:/var/…/demo.db`.
    static func middleTruncated(_ text: String, to width: Int) -> String {
        width > 4 ? TextWidth.middleTruncated(text, to: width) : text
    }
}

/// The bottom line: the prompt being typed, a message, a hint, or key hints.
enum StatusBar {
    static func render(_ state: AppState, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        guard !area.isEmpty else { return }
        if let prompt = state.prompt {
            let lead = prompt.kind == .filter ? "/" : (prompt.kind == .redriveTarget ? "target topic (empty: original): " : ":")
            var right: [TerminalUI.Span] = []
            if prompt.kind == .filter, RowFilter(prompt.text).isPlainText {
                right.append(TerminalUI.Span(text: "not a regex: plain text match ", role: .statusInfo))
            }
            StatusLine(left: [TerminalUI.Span(text: lead + prompt.text + "▏", role: .filter)], right: right, fill: .statusLine)
                .render(in: area, into: &buffer, theme: theme)
            return
        }
        if let message = state.message, message.until > state.now {
            let role: Role = message.level == .error ? .statusError : .statusInfo
            StatusLine(left: [TerminalUI.Span(text: " " + message.text, role: role)], right: [], fill: .statusLine)
                .render(in: area, into: &buffer, theme: theme)
            return
        }
        var right: [TerminalUI.Span] = []
        if let hint = state.hint { right.append(TerminalUI.Span(text: hint + " ", role: .statusInfo)) }
        let filter = state.currentFilter
        if !filter.isEmpty { right.append(TerminalUI.Span(text: "filter: " + filter + " ", role: .filter)) }
        // Whole hints only: one that does not fit is left out, never cut mid-word.
        var left: [TerminalUI.Span] = []
        var room = area.width - right.reduce(0) { $0 + TextWidth.of($1.text) }
        for (key, text) in keyHints(state) {
            let pair = [TerminalUI.Span(text: " " + key, role: .statusKey), TerminalUI.Span(text: " " + text + " ", role: .statusLine)]
            let width = pair.reduce(0) { $0 + TextWidth.of($1.text) }
            guard width <= room else { break }
            room -= width
            left += pair
        }
        // The hint matters more than key hints: show it on the left when it is there.
        if !right.isEmpty, state.hint != nil {
            StatusLine(left: right.map { TerminalUI.Span(text: " " + $0.text, role: $0.role) }, right: [], fill: .statusLine)
                .render(in: area, into: &buffer, theme: theme)
            return
        }
        StatusLine(left: left, right: right, fill: .statusLine).render(in: area, into: &buffer, theme: theme)
    }

    static func keyHints(_ state: AppState) -> [(String, String)] {
        if state.confirmation != nil { return [("y", "yes"), ("n/esc", "no")] }
        if let dialog = state.redrive {
            switch dialog.phase {
            case .confirming:
                return [("enter", dialog.dryRun ? "dry run" : "requeue"), ("d", dialog.dryRun ? "for real" : "dry run"),
                        ("+/-", "rate"), ("t", "target"), ("esc", "cancel")]
            case .running:
                return [("esc", "cancel the job (what moved stays moved)")]
            case .finished, .failed:
                return [("any key", "close")]
            }
        }
        // The view's hints, made from its and the global key bindings.
        return ViewRegistry.registration(for: state.view).hints.flatMap { $0.items(state) }
    }
}

/// Wall-clock formatting without Foundation's locale machinery (deterministic in tests).
public enum Clock {
    /// `HH:MM:SS` of `date` at the given UTC offset.
    public static func hms(_ date: Date, utcOffsetSeconds: Int) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + utcOffsetSeconds
        let day = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(day / 3600)):\(two(day % 3600 / 60)):\(two(day % 60))"
    }

    /// `YYYY-MM-DD` of `date` at the given UTC offset.
    public static func ymd(_ date: Date, utcOffsetSeconds: Int) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(utcOffsetSeconds)
        let (y, m, d) = CivilCalendar.date(days: CivilCalendar.floorDiv(seconds, 86_400))
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))"
    }
}
