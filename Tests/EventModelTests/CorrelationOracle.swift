import Foundation
@testable import EventModel

// The correlation extractor as it was before JSONScanner: decode the whole value with JSONSerialization,
// walk it, and read scalars from the NSNumber/String it holds. Kept only as the differential tests' oracle
// (CorrelationScannerTests); the product scans instead (Sources/EventModel/JSONScanner.swift).

extension JSONPointer {
    /// The value the pointer designates in a document decoded by `JSONSerialization`, or nil.
    func resolve(in document: Any) -> Any? {
        var current: Any = document
        for token in tokens {
            if let object = current as? [String: Any] {
                guard let next = object[token] else { return nil }
                current = next
            } else if let array = current as? [Any] {
                // RFC 6901: decimal index without leading zeros.
                guard let i = Int(token), i >= 0, i < array.count, token == String(i) else { return nil }
                current = array[i]
            } else {
                return nil
            }
        }
        return current
    }
}

/// The former `CorrelationRules.extract`, `accept`, `scalarText` and `parseJSON`, unchanged.
enum CorrelationOracle {
    /// Correlation ID and event type of a record; the value is parsed as JSON at most once.
    static func extract(_ rules: CorrelationRules, _ record: Record) -> CorrelationRules.Extraction {
        var parsed: Any??  // nil: not tried; .some(nil): not JSON
        func document() -> Any? {
            if let p = parsed { return p }
            let d = parseJSON(record.value)
            parsed = .some(d)
            return d
        }
        func first(_ rules: [CorrelationRules.Rule]) -> String? {
            for rule in rules {
                switch rule {
                case .header(let name):
                    if let h = record.header(name), let v = accept(h.utf8Value) { return v }
                case .jsonPointer(let pointer):
                    if let doc = document(), let v = accept(scalarText(pointer.resolve(in: doc))) { return v }
                case .spanAttribute:
                    continue
                }
            }
            return nil
        }
        return CorrelationRules.Extraction(correlationID: first(rules.correlation), eventType: first(rules.eventType))
    }

    /// What each pointer yields before `accept`: the oracle side of a scanner-level comparison.
    static func texts(_ pointers: [JSONPointer], _ value: [UInt8]) -> [String?]? {
        guard let doc = parseJSON(value) else { return nil }
        return pointers.map { scalarText($0.resolve(in: doc)) }
    }

    /// The former `CorrelationRules.accept`: always Foundation's trimming.
    static func accept(_ text: String?) -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= CorrelationRules.maxValueBytes else { return nil }
        return trimmed
    }

    static func scalarText(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let n as NSNumber:
            // Integers only: a correlation ID of 1.5 or true is not one.
            if String(cString: n.objCType) == "c" || String(describing: type(of: n)).contains("Bool") { return nil }
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 1e15 else { return nil }
            return String(Int64(d))
        default: return nil
        }
    }

    /// A JSON object or array from bytes that are valid UTF-8 and small enough; nil otherwise.
    static func parseJSON(_ value: [UInt8]?) -> Any? {
        guard let value, !value.isEmpty, value.count <= CorrelationRules.maxJSONBytes else { return nil }
        guard let first = value.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        guard String(validating: value, as: UTF8.self) != nil else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(value))
    }
}
