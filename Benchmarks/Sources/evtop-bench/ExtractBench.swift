// Correlation extraction figures (--only extract): `CorrelationRules.extract` (one-pass JSONScanner)
// beside the JSONSerialization path it replaced, on the same records.
import EventModel
import EvtopBenchSupport
import Foundation

enum ExtractBench {
    /// Demo-like events (sorted keys, as the simulator writes them) without correlation headers, so that
    /// every record goes through the JSON pointer rules.
    static func records(_ count: Int) -> [Record] {
        let types = ["OrderPlaced", "PaymentAuthorized", "InventoryReserved", "OrderShipped", "PaymentFailed"]
        return (0..<count).map { i in
            let order = "ord-\(100_000 + i / 5)"
            let items = (0..<(1 + i % 3)).map { k in
                #"{"price":\#(Double(k * 7 + i % 90) + 0.99),"qty":\#(1 + k),"sku":"SKU-\#(i % 997)-\#(k)"}"#
            }.joined(separator: ",")
            let json = #"{"amount":\#(Double(i % 5000) / 4),"correlationId":"\#(order)","eventId":"e-\#(String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, radix: 16))","#
                + #""eventType":"\#(types[i % types.count])","items":[\#(items)],"orderId":"\#(order)","schemaVersion":1,"#
                + #""timestamp":"2026-12-04T10:\#(10 + i % 50):00.000Z","type":"\#(types[i % types.count])"}"#
            return Record(topic: "orders", partition: Int32(i % 8), offset: Int64(i), timestampMillis: 1_800_000_000_000 + Int64(i),
                          key: Array(order.utf8), headers: [RecordHeader("content-type", "application/json")], value: Array(json.utf8))
        }
    }

    static func run(records count: Int, repeats: Int, clock: ContinuousClock) {
        let records = records(count)
        let rules = CorrelationRules.default
        let avgBytes = records.reduce(0) { $0 + ($1.value?.count ?? 0) } / max(1, records.count)
        // Both paths must agree before their speeds mean anything.
        for r in records.prefix(2_000) where rules.extract(r) != BeforeScannerExtract.extract(rules, r) {
            fail("extract: the scanner and the JSONSerialization path disagree on offset \(r.offset)")
        }
        func rate(_ body: (Record) -> CorrelationRules.Extraction) -> Double {
            var rates: [Double] = []
            for _ in 0..<max(1, repeats) {
                let t0 = clock.now
                var found = 0
                for r in records where body(r).correlationID != nil { found += 1 }
                rates.append(Double(records.count) / (clock.now - t0).seconds)
                sink &+= found
            }
            return rates.sorted()[rates.count / 2]
        }
        let after = rate { rules.extract($0) }
        let before = rate { BeforeScannerExtract.extract(rules, $0) }
        print("correlation extract, \(grouped(records.count)) demo-like JSON events (~\(avgBytes) B, no correlation headers; default rules): "
            + "JSONScanner \(grouped(Int(after))) records/s, JSONSerialization (before) \(grouped(Int(before))) records/s "
            + String(format: "(%.1f×), median of %d", after / before, max(1, repeats)))
    }
}

/// BEFORE-SCANNER REFERENCE, for this benchmark only: the JSONSerialization path `CorrelationRules.extract`
/// used until JSONScanner (the tests keep the same code as their oracle, Tests/EventModelTests/CorrelationOracle.swift).
enum BeforeScannerExtract {
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
