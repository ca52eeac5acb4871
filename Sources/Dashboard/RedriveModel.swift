import Foundation
import EventModel
import TerminalUI

/// The redrive dialog: confirm, then progress, then the outcome.
public struct RedriveDialog: Sendable, Hashable {
    /// Where the dialog is.
    public enum Phase: Sendable, Hashable {
        /// Showing what would move; enter starts.
        case confirming
        /// Moving; esc asks to cancel.
        case running(RedriveProgress?)
        /// Over: the report until a key closes it.
        case finished(RedriveReport)
        /// The job stopped on an error (its journal resumes it on the next start).
        case failed(String)
    }

    /// The DLQ topic.
    public var topic: String
    /// Letters selected, in the order they move (oldest first).
    public var positions: [RecordPosition]
    /// Their timestamps as shown (part of each redrive id).
    public var timestamps: [RecordPosition: Int64] = [:]
    /// Their content fingerprints as shown, when the letters sit in a queue (found again by content).
    public var fingerprints: [RecordPosition: String] = [:]
    /// How they were selected ("3 marked", "the selected letter", "all 37 matching /x/").
    public var selection: String
    /// Target topic per letter's original topic, or the override, with counts; nil key = no original topic.
    public var targets: [String?: Int]
    /// Send everything here instead.
    public var targetOverride: String?
    /// Messages per second; nil: unthrottled.
    public var rate: Double?
    /// Show what would move without writing.
    public var dryRun = false
    /// Where the dialog is.
    public var phase: Phase = .confirming
    /// Set when esc asked the running job to stop.
    public var cancelRequested = false

    /// Creates a confirm dialog.
    public init(topic: String, positions: [RecordPosition], selection: String, targets: [String?: Int], rate: Double?) {
        self.topic = topic
        self.positions = positions
        self.selection = selection
        self.targets = targets
        self.rate = rate
    }

    /// True while a job runs.
    public var isRunning: Bool {
        if case .running = phase { return true }
        return false
    }
}

/// Selection, dialog keys and dialog text for redrive from the letter list. Pure.
public enum RedriveModel {
    /// Rates `+`/`-` step through (messages per second; nil: unthrottled).
    public static let ratePresets: [Double?] = [1, 10, 50, 100, 500, 1000, nil]

    // MARK: - Selection

    /// Toggles the mark on the highlighted letter and moves down, as in k9s.
    static func toggleMark(_ state: inout AppState, topic: String) -> Bool {
        let rows = DeadLetterModel.letterRows(state, topic: topic)
        let index = Reducer.selectedIndex(state.deadLetterCursor, keys: rows.map(\.key))
        guard rows.indices.contains(index) else { return false }
        let key = rows[index].key
        if state.marks[topic, default: []].remove(key) == nil { state.marks[topic, default: []].insert(key) }
        if state.marks[topic]?.isEmpty == true { state.marks[topic] = nil }
        return true
    }

    /// The confirm dialog for `r` (marked letters, else the highlighted one) or `R` (every letter the filter shows).
    static func plan(_ state: AppState, topic: String, all: Bool, highlighted: (partition: Int32, offset: Int64)?) -> RedriveDialog? {
        let letters = state.deadLetters[topic] ?? []
        let byKey = Dictionary(letters.map { (DeadLetterModel.key(partition: $0.record.partition, offset: $0.record.offset), $0) },
                               uniquingKeysWith: { a, _ in a })
        var chosen: [DeadLetter]
        var selection: String
        if all {
            chosen = DeadLetterModel.letterRows(state, topic: topic).compactMap { byKey[$0.key] }
            let filter = state.filters[ViewID.deadLetterList(topic: topic).name] ?? ""
            selection = filter.isEmpty ? "all \(chosen.count) loaded" : "all \(chosen.count) matching /\(filter)/"
        } else if let marks = state.marks[topic], !marks.isEmpty {
            chosen = marks.compactMap { byKey[$0] }
            selection = "\(chosen.count) marked"
        } else if let h = highlighted, let letter = byKey[DeadLetterModel.key(partition: h.partition, offset: h.offset)] {
            chosen = [letter]
            selection = "p\(h.partition)@\(h.offset)"
        } else {
            return nil
        }
        // Already requeued letters are left out: the journal would skip them anyway.
        let chosenCountBefore = chosen.count
        let states = state.redriveStates[topic] ?? [:]
        chosen = chosen.filter { d in
            let s = states[RecordPosition(topic: d.record.topic, partition: d.record.partition, offset: d.record.offset)]
            return s == nil || s == .failed
        }
        guard !chosen.isEmpty else { return nil }
        let before = selection
        let left = chosenCountBefore - chosen.count
        if left > 0 { selection = "\(before); \(left) already requeued, left out" }
        // Oldest first: the order they failed in.
        chosen.sort { a, b in
            a.record.timestampMillis != b.record.timestampMillis ? a.record.timestampMillis < b.record.timestampMillis
                : (a.record.partition, a.record.offset) < (b.record.partition, b.record.offset)
        }
        var dialog = RedriveDialog(
            topic: topic,
            positions: chosen.map { RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset) },
            selection: selection, targets: [:], rate: state.redriveRate)
        dialog.timestamps = Dictionary(chosen.map {
            (RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset), $0.record.timestampMillis)
        }, uniquingKeysWith: { a, _ in a })
        if state.lettersAreQueued {
            dialog.fingerprints = Dictionary(chosen.map {
                (RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset), QueueFingerprint.of($0.record))
            }, uniquingKeysWith: { a, _ in a })
        }
        dialog.targets = targets(chosen, override: nil)
        return dialog
    }

    /// Counts per target topic (nil: no original topic and no override).
    static func targets(_ letters: [DeadLetter], override: String?) -> [String?: Int] {
        var out: [String?: Int] = [:]
        for d in letters { out[RedriveRules.targetTopic(d, override: override), default: 0] += 1 }
        return out
    }

    /// Recomputes the targets after the override changed.
    static func retarget(_ dialog: inout RedriveDialog, state: AppState, override: String?) {
        dialog.targetOverride = override
        let wanted = Set(dialog.positions)
        let letters = (state.deadLetters[dialog.topic] ?? []).filter {
            wanted.contains(RecordPosition(topic: $0.record.topic, partition: $0.record.partition, offset: $0.record.offset))
        }
        dialog.targets = targets(letters, override: override)
    }

    /// The request the run loop executes.
    static func request(_ dialog: RedriveDialog) -> RedriveRequest {
        var request = RedriveRequest(kind: .redrive, sourceTopic: dialog.topic, positions: dialog.positions, targetOverride: dialog.targetOverride,
                                     ratePerSecond: dialog.rate, dryRun: dialog.dryRun, selectionDescription: dialog.selection,
                                     user: ProcessInfo.processInfo.environment["USER"] ?? "unknown", timestamps: dialog.timestamps)
        request.fingerprints = dialog.fingerprints
        return request
    }

    /// The next rate preset up or down from `rate`.
    static func step(_ rate: Double?, up: Bool) -> Double? {
        let presets = ratePresets
        let index = presets.firstIndex { $0 == rate } ?? presets.firstIndex { ($0 ?? .infinity) >= (rate ?? .infinity) } ?? presets.count - 1
        let next = max(0, min(presets.count - 1, index + (up ? 1 : -1)))
        return presets[next]
    }

    // MARK: - Keys

    /// The confirm dialog's keys: one table feeds the keys, the dialog's hint and the help overlay.
    static let confirmBindings: [KeyBinding] = [
        KeyBinding([.enter, .char("y")], "enter y", "requeue (or run the dry run)") { state, _ in
            guard var dialog = state.redrive else { return [] }
            dialog.phase = .running(nil)
            state.redrive = dialog
            if !dialog.dryRun { state.marks[dialog.topic] = nil }
            return [.startRedrive(request(dialog))]
        },
        .pure([.char("t")], "t", "another target topic (empty: the original)") { state in
            state.prompt = Prompt(kind: .redriveTarget, text: state.redrive?.targetOverride ?? "")
        },
        KeyBinding([.char("+"), .char("="), .char("-")], "+ -", "rate limit up / down") { state, key in
            guard var dialog = state.redrive else { return [] }
            dialog.rate = step(dialog.rate, up: key != .char("-"))
            state.redriveRate = dialog.rate // remembered for the next dialog
            state.redrive = dialog
            return []
        },
        .pure([.char("d")], "d", "dry run on / off (writes nothing)") { state in
            state.redrive?.dryRun.toggle()
        },
        .pure([.escape, .char("n"), .char("q")], "esc n", "close without requeuing") { state in state.redrive = nil },
    ]

    /// The running dialog's keys.
    static let runningBindings: [KeyBinding] = [
        KeyBinding([.escape, .ctrl("c"), .char("q")], "esc", "cancel within a second; q again quits") { state, key in
            guard var dialog = state.redrive else { return [] }
            if dialog.cancelRequested {
                // Asked twice: the operator wants out now. The journal finishes the job on the next start.
                if key != .escape { state.shouldQuit = true }
                return []
            }
            dialog.cancelRequested = true
            state.redrive = dialog
            return [.cancelRedrive]
        },
    ]

    /// Keys while the dialog shows. Keys that are not the dialog's do nothing while it shows.
    static func handleKey(_ state: inout AppState, _ key: Key) -> [Effect] {
        guard let dialog = state.redrive else { return [] }
        switch dialog.phase {
        case .confirming:
            return confirmBindings.first { $0.keys.contains(key) }?.run(&state, key) ?? []
        case .running:
            return runningBindings.first { $0.keys.contains(key) }?.run(&state, key) ?? []
        case .finished, .failed:
            state.redrive = nil
        }
        return []
    }

    /// Applies the target typed at the `t` prompt ("" goes back to the original topics).
    static func setTarget(_ state: inout AppState, _ text: String) {
        guard var dialog = state.redrive, dialog.phase == .confirming else { return }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        retarget(&dialog, state: state, override: trimmed.isEmpty ? nil : trimmed)
        state.redrive = dialog
    }

    // MARK: - Dialog

    /// "orders ×30 · payments ×7 · 2 without an original topic".
    static func targetsText(_ targets: [String?: Int], known: Set<String>?) -> String {
        let named = targets.compactMap { k, v in k.map { ($0, v) } }.sorted { $0.0 < $1.0 }
            .map { name, count in "\(name) ×\(count)" + ((known.map { !$0.contains(name) } ?? false) ? " (no such topic!)" : "") }
        var parts = named
        if let orphans = targets[nil] { parts.append("\(orphans) without an original topic (t sets one)") }
        return parts.joined(separator: " · ")
    }

    static func rateText(_ rate: Double?) -> String {
        guard let rate else { return "unthrottled" }
        // Presets are whole numbers: "1/s", not "1.0/s".
        return (rate == rate.rounded() && rate < 10_000 ? String(Int(rate)) : NumberFormat.rate(rate)) + "/s"
    }

    /// The dialog box for the current phase.
    static func dialog(_ dialog: RedriveDialog, state: AppState) -> (Dialog, progress: ProgressBar?) {
        let count = dialog.positions.count
        let noun = "dead letter" + (count == 1 ? "" : "s")
        let known = state.snapshot.map { Set($0.topics.map(\.name)) }
        switch dialog.phase {
        case .confirming:
            var eta = ""
            if let rate = dialog.rate {
                let seconds = Double(count) / rate
                eta = seconds < 1 ? " · under a second" : " · about " + NumberFormat.duration(seconds: seconds)
            }
            let lines = [
                "from  \(dialog.topic) (\(dialog.selection))",
                "to    " + targetsText(dialog.targets, known: known),
                "rate  \(rateText(dialog.rate))\(eta)   + / - change",
                "mode  " + (dialog.dryRun ? "DRY RUN: nothing is written   d: for real"
                            : state.lettersAreQueued ? "for real: acked after confirm, journaled   d: dry run"
                            : "for real: exactly once, journaled   d: dry run"),
            ]
            return (Dialog(title: (dialog.dryRun ? "Dry run: requeue " : "Requeue ") + "\(count) \(noun)?", lines: lines,
                           hint: "enter go · t target topic · esc cancel", minContentWidth: 44), nil)
        case .running(let progress):
            let moved = progress?.moved ?? 0
            let total = max(1, progress?.total ?? count)
            var label = "\(moved)/\(progress?.total ?? count)"
            if let p = progress {
                label += " · \(NumberFormat.rate(p.ratePerSecond))/s"
                // While the broker does not answer, an ETA would be a guess: the line says since when instead.
                if let eta = p.etaSeconds, p.waiting == nil { label += " · ETA " + NumberFormat.duration(seconds: eta) }
            }
            var lines = ["", "to    " + targetsText(dialog.targets, known: known)]
            if let waiting = progress?.waiting { lines.append(waiting.hasPrefix("waiting") ? waiting : "waiting: " + waiting) }
            if let failed = progress?.failed, failed > 0 { lines.append("\(failed) failed so far") }
            let hint = dialog.cancelRequested ? "cancelling… (stops within a second; what is in flight stays in the journal; q quits)"
                : "esc cancel (what moved stays moved)"
            return (Dialog(title: "Requeuing \(count) \(noun) from \(dialog.topic)", lines: lines, hint: hint, minContentWidth: 50),
                    ProgressBar(fraction: Double(moved) / Double(total), label: label, labelRole: .dialog))
        case .finished(let report):
            let verb = report.dryRun ? "would requeue" : (report.cancelled ? "cancelled: requeued" : "requeued")
            var lines = ["\(verb) \(report.moved) of \(report.selected)" + (report.targets.isEmpty ? "" : " → " +
                         report.targets.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: " · "))]
            let toRunning = report.skippedToRunning.values.reduce(0, +)
            if report.skipped > toRunning { lines.append("\(report.skipped - toRunning) already requeued or skipped earlier: left out") }
            if toRunning > 0 { lines.append("\(toRunning) held by another job still running: skipped") }
            if report.inDoubt > 0 { lines.append("\(report.inDoubt) in doubt (the broker stopped answering): the next start resolves them") }
            if report.failed > 0 {
                lines.append("\(report.failed) failed:")
                lines += report.failures.prefix(5).map { "  \($0.redriveID): \($0.reason)" }
            }
            if !report.dryRun { lines.append("job \(report.jobID) · evtop dlq jobs lists it") }
            let title = report.dryRun ? "Dry run" : (report.cancelled ? "Requeue cancelled" : "Requeue done")
            return (Dialog(title: title, lines: lines, hint: "any key closes", minContentWidth: 40), nil)
        case .failed(let why):
            return (Dialog(title: "Requeue stopped", lines: [why, "the journal finishes the job on the next start"],
                           hint: "any key closes", minContentWidth: 40), nil)
        }
    }

    /// Draws the dialog (and its progress bar) over the content area.
    static func render(_ state: AppState, in area: Rect, into buffer: inout ScreenBuffer, theme: Theme) {
        guard let d = state.redrive else { return }
        let (box, progress) = dialog(d, state: state)
        box.render(in: area, into: &buffer, theme: theme)
        if let progress {
            let content = box.contentArea(in: area.intersection(buffer.area))
            progress.render(in: Rect(x: content.x, y: content.y, width: content.width, height: min(1, content.height)),
                            into: &buffer, theme: theme)
        }
    }
}
