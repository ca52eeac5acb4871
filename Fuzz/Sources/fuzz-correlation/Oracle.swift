import Foundation
import EventModel

/// ORACLE, for this fuzz target only: the JSONSerialization path `CorrelationRules.extract` took before
/// JSONScanner (the same code as Tests/EventModelTests/CorrelationOracle.swift, which the differential
/// tests use). The target crashes when the product's extraction differs from it.
enum CorrelationOracle {
    static func extract(_ rules: CorrelationRules, _ record: Record) -> CorrelationRules.Extraction {
        var parsed: Any??
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
                    if let doc = document(), let v = accept(scalarText(resolve(pointer, in: doc))) { return v }
                case .spanAttribute:
                    continue
                }
            }
            return nil
        }
        return CorrelationRules.Extraction(correlationID: first(rules.correlation), eventType: first(rules.eventType))
    }

    static func resolve(_ pointer: JSONPointer, in document: Any) -> Any? {
        var current: Any = document
        for token in pointer.tokens {
            if let object = current as? [String: Any] {
                guard let next = object[token] else { return nil }
                current = next
            } else if let array = current as? [Any] {
                guard let i = Int(token), i >= 0, i < array.count, token == String(i) else { return nil }
                current = array[i]
            } else {
                return nil
            }
        }
        return current
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
            if String(cString: n.objCType) == "c" || String(describing: type(of: n)).contains("Bool") { return nil }
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 1e15 else { return nil }
            return String(Int64(d))
        default: return nil
        }
    }

    static func parseJSON(_ value: [UInt8]?) -> Any? {
        guard let value, !value.isEmpty, value.count <= CorrelationRules.maxJSONBytes else { return nil }
        guard let first = value.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        guard String(validating: value, as: UTF8.self) != nil else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(value))
    }
}
