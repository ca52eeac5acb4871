import Foundation
import EventModel
import TerminalUI

/// The clock of a recording played back (`--broker file:PATH`): what it spans and the moment on screen.
public struct PlaybackState: Sendable, Hashable {
    /// The first recorded moment.
    public var start: Date
    /// The last recorded moment (where the clock starts).
    public var end: Date
    /// The moment every view shows.
    public var clock: Date
    /// What the recording left out, if anything.
    public var omissions: String?

    /// Creates a playback clock at `clock`.
    public init(start: Date, end: Date, clock: Date, omissions: String? = nil) {
        self.start = start
        self.end = end
        self.clock = clock
        self.omissions = omissions
    }

    /// `−1m 20s` (or `end`): where the clock stands before the recording's end, for a narrow header.
    public var shortPosition: String {
        let before = max(0, end.timeIntervalSince(clock))
        return before < 0.5 ? "end" : "−" + NumberFormat.duration(seconds: before)
    }

    /// `-1m 20s of 5m 0s`: where the clock stands before the recording's end, for the header.
    public var position: String {
        let before = max(0, end.timeIntervalSince(clock))
        let whole = NumberFormat.duration(seconds: max(0, end.timeIntervalSince(start)))
        return before < 0.5 ? "end of \(whole)" : "−\(NumberFormat.duration(seconds: before)) of \(whole)"
    }
}

/// Moving a recording's clock: `[` `]` by ``step``, `{` `}` by ``bigStep``. The state is rebuilt from the
/// recorded snapshots up to the new moment, so rates, charts and trends are those the operator saw then.
public enum PlaybackModel {
    /// Seconds `[` and `]` move the clock.
    public static let step: TimeInterval = 10
    /// Seconds `{` and `}` move the clock.
    public static let bigStep: TimeInterval = 60
    /// Seconds of snapshots replayed up to the clock: what the meter's and lag tracker's windows hold.
    public static let history: TimeInterval = 600

    static let keys = KeyBinding([.char("["), .char("]"), .char("{"), .char("}")], "[ ] { }",
                                 "recording: clock −/+ 10 s, 1 min") { state, key in
        guard let playback = state.playback else {
            Reducer.say(&state, "[ ] move the clock of a recording: evtop --broker file:PATH (make one with evtop record)")
            return []
        }
        let delta: TimeInterval
        switch key {
        case .char("["): delta = -step
        case .char("]"): delta = step
        case .char("{"): delta = -bigStep
        default: delta = bigStep
        }
        let target = min(max(playback.clock.addingTimeInterval(delta), playback.start), playback.end)
        guard target != playback.clock else {
            Reducer.say(&state, delta < 0 ? "at the recording's start" : "at the recording's end")
            return []
        }
        // The clock moves at once, so that keys pressed before the move's answer add up; the answer
        // (the last one asked for: the performer drops the others) brings the figures of that moment.
        state.playback?.clock = target
        return [.movePlayback(to: target)]
    }

    /// The clock moved: every figure is computed again from the recorded snapshots up to it (oldest first).
    static func moved(_ state: inout AppState, clock: Date, snapshots: [BrokerSnapshot]) -> [Effect] {
        guard state.playback != nil else { return [] }
        state.playback?.clock = clock
        state.meter = ThroughputMeter()
        state.lagTracker = LagTracker(configuration: state.lagTracker.configuration)
        state.viewStates[InsightsState.self].analyzer = InsightAnalyzer(settings: state.viewStates[InsightsState.self].analyzer.settings)
        state.viewStates[InsightsState.self].report = nil
        let paused = state.paused
        state.paused = false
        // Every load the snapshots plan is kept, once: a view marks a load as under way when it plans it.
        var effects: [Effect] = []
        for snapshot in snapshots {
            for effect in Reducer.reduce(&state, .snapshot(snapshot)) where !effects.contains(effect) { effects.append(effect) }
        }
        state.paused = paused
        state.now = clock
        return effects
    }
}

/// An incident being recorded from the dashboard (`:record FILE [DURATION]`), for the header.
public struct RecordingBadge: Sendable, Hashable {
    /// The file being written.
    public var path: String
    /// How long it has recorded (`1m 12s`), nil before its first snapshot.
    public var elapsed: String?

    /// Creates a badge.
    public init(path: String, elapsed: String? = nil) {
        self.path = path
        self.elapsed = elapsed
    }
}

/// `:record FILE [DURATION]` and `:record stop`: what `evtop record` does, from the dashboard's source.
public enum RecordingModel {
    static let command = CommandBinding(verbs: ["record"], label: ":record FILE [5m]",
                                        help: "record an incident to FILE (:record stop)") { state, _, argument in
        let words = argument.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if state.playback != nil {
            Reducer.say(&state, "this is a recording already: it cannot be recorded again", error: true)
            return []
        }
        if words == ["stop"] {
            guard state.recording != nil else {
                Reducer.say(&state, "no recording runs", error: true)
                return []
            }
            return [.stopRecording]
        }
        guard (1...2).contains(words.count) else {
            Reducer.say(&state, "usage: :record FILE [DURATION] (30s, 5m, 1h; until :record stop without one) · :record stop", error: true)
            return []
        }
        if let running = state.recording {
            Reducer.say(&state, "a recording into \(running.path) runs: :record stop ends it", error: true)
            return []
        }
        var duration: TimeInterval?
        if words.count == 2 {
            guard let seconds = SeekTarget.duration(words[1]), seconds > 0 else {
                Reducer.say(&state, "':record \(TextWidth.sanitized(argument))': \(TextWidth.sanitized(words[1])) is not a duration (30s, 5m, 1h)", error: true)
                return []
            }
            duration = seconds
        }
        state.recording = RecordingBadge(path: words[0])
        return [.startRecording(path: words[0], duration: duration)]
    }

    /// The recording's progress, or its end (`finished`: the line that says what was recorded, or why not).
    static func update(_ state: inout AppState, elapsed: String?, finished: String?, isError: Bool) {
        if let elapsed, state.recording != nil { state.recording?.elapsed = elapsed }
        if let finished {
            state.recording = nil
            Reducer.say(&state, finished, error: isError)
        }
    }
}
