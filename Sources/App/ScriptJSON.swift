import Foundation

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
