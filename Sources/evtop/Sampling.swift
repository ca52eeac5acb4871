import Foundation
import EventModel
import Dashboard
import TerminalUI

/// Non-interactive commands take two snapshots `interval` apart so rates exist.
enum Sampling {
    static func sampledState(log: any BrokerLog, interval: Double, state initial: AppState) async throws -> AppState {
        var state = initial
        Reducer.reduce(&state, .snapshot(try await log.snapshot()))
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            Reducer.reduce(&state, .snapshot(try await log.snapshot()))
        }
        return state
    }
}
