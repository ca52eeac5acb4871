// Correlation extraction figure (--only extract): `CorrelationRules.extract` (one-pass JSONScanner), the
// correlation indexer's per-record parse. The JSONSerialization path it replaced is kept once, as the
// tests' oracle (Tests/EventModelTests/CorrelationOracle.swift), not here: the reference beside the product
// is kcat in `scripts/bench_kafka`.
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
        // Every record has an ID: a rate over records it failed on would mean nothing.
        for r in records.prefix(2_000) where rules.extract(r).correlationID == nil {
            fail("extract: no correlation ID found at offset \(r.offset)")
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
        print("correlation extract, \(grouped(records.count)) demo-like JSON events (~\(avgBytes) B, no correlation headers; default rules): "
            + "\(grouped(Int(after))) records/s, median of \(max(1, repeats))")
    }
}
