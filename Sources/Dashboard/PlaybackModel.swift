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
                                 "recording: clock back / on 10 s, 1 min") { state, key in
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
