import Foundation
import EventModel
import Dashboard
import TerminalUI

/// Non-interactive commands take two snapshots `interval` apart so rates exist.
enum Sampling {
    static func sampledState(log: any LogReader, interval: Double, state initial: AppState) async throws -> AppState {
        var state = initial
        Reducer.reduce(&state, .snapshot(try await log.snapshot()))
        if interval > 0 {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            Reducer.reduce(&state, .snapshot(try await log.snapshot()))
        }
        return state
    }
}

/// JSON for scripts: pretty, keys sorted (stable diffs), figures rounded to two decimals.
enum ScriptJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Two decimals: rates and seconds carry no more meaning than that.
    static func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}
