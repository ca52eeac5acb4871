import Foundation
import KafkaLog
import EventModel

// evtop-kafka-bench: consume every record of a mock-cluster topic through evtop's path (browse consumer
// with assign(), librdkafka message -> Record with key/value/headers copied, JSON correlation id found,
// counted in an index) and with `kcat -C -e -o beginning -q`, side by side; prints both rates and the ratio.
//
//   evtop-kafka-bench [--records 1000000] [--partitions 64] [--kcat /usr/bin/kcat] [--bootstrap HOST:PORT,...]
//
// Without --bootstrap the mock cluster runs inside this process (its broker threads then share the
// process with evtop's consumer); with it, a mock cluster started by `evtop-mock-cluster --topic
// bench-events:64` in a process of its own, as kcat sees it.

var records = 1_000_000
var partitions: Int32 = 64
var kcatPath = "/usr/bin/kcat"
var external: String?
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--records": records = Int(args.next() ?? "") ?? records
    case "--partitions": partitions = Int32(args.next() ?? "") ?? partitions
    case "--kcat": kcatPath = args.next() ?? kcatPath
    case "--bootstrap": external = args.next()
    default: print("usage: evtop-kafka-bench [--records N] [--partitions N] [--kcat PATH] [--bootstrap HOST:PORT,...]"); exit(2)
    }
}

/// The correlation id of a JSON event: the string value of its first "correlationId" field, found by a
/// byte scan (what the saga index needs from each value), without decoding the whole document.
func correlationID(_ value: [UInt8]) -> Substring? {
    let key = Array("\"correlationId\":\"".utf8)
    guard value.count > key.count else { return nil }
    var i = 0
    let last = value.count - key.count
    while i <= last {
        if value[i] == key[0] {
            var j = 1
            while j < key.count && value[i + j] == key[j] { j += 1 }
            if j == key.count {
                let start = i + key.count
                var end = start
                while end < value.count && value[end] != UInt8(ascii: "\"") { end += 1 }
                return Substring(decoding: value[start..<end], as: UTF8.self)
            }
        }
        i += 1
    }
    return nil
}

final class Index: @unchecked Sendable {
    // @unchecked: only the scan's batch callback touches it, one batch at a time.
    var counts: [Substring: Int] = [:]
    var read = 0
}

let topic = "bench-events"
let cluster: KafkaMockCluster? = external == nil ? try KafkaMockCluster(brokers: 3) : nil
if let cluster { try cluster.createTopic(topic, partitions: partitions, replication: 1) }
let bootstrapText = external ?? cluster?.bootstrap ?? ""
let bootstrap = bootstrapText.split(separator: ",").map(String.init)
let writer = try KafkaLog(settings: KafkaSettings(bootstrap: bootstrap, properties: ["linger.ms": "20", "batch.num.messages": "10000"]))

let clock = ContinuousClock()
let produceStart = clock.now
var produced = 0
while produced < records {
    let n = min(20_000, records - produced)
    let batch = (produced..<(produced + n)).map { i in
        OutgoingRecord(topic: topic, partition: Int32(i % Int(partitions)), timestampMillis: 1_700_000_000_000 + Int64(i),
                       key: Array("order-\(i / 6)".utf8),
                       value: Array("{\"type\":\"OrderPlaced\",\"correlationId\":\"order-\(i / 6)\",\"amount\":\(i % 997),\"seq\":\(i)}".utf8))
    }
    try await writer.produce(batch)
    produced += n
}
let produceTime = clock.now - produceStart
let info = try await writer.watermarks(of: topic)
let kept = info.reduce(Int64(0)) { $0 + $1.count }
print("kafka bench topic: \(produced) JSON events produced in \(produceTime) over \(partitions) partitions; the mock kept \(kept) (from the watermarks)")

// evtop: a fresh client, as the saga index or a DLQ scan would start.
// EVTOP_BENCH_X="key=value,key=value" passes librdkafka properties to the reading side (for tuning runs).
var readerProps: [String: String] = [:]
for kv in (ProcessInfo.processInfo.environment["EVTOP_BENCH_X"] ?? "").split(separator: ",") {
    let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
    if parts.count == 2 { readerProps[parts[0]] = parts[1] }
}
let reader = try KafkaLog(settings: KafkaSettings(bootstrap: bootstrap, properties: readerProps))
let index = Index()
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}
let cpuStart = cpuSeconds()
let evtopStart = clock.now
let read = try await reader.scan(topic: topic, partitions: info) { batch in
    for r in batch {
        index.read += 1
        if let v = r.value, let id = correlationID(v) { index.counts[id, default: 0] += 1 }
    }
}
let evtopTime = clock.now - evtopStart
let evtopCPU = cpuSeconds() - cpuStart
guard Int64(read) == kept else { print("evtop read \(read) of \(kept) records"); exit(1) }

// kcat: the same records, printed to a pipe that wc counts.
let p = Process()
p.executableURL = URL(fileURLWithPath: "/bin/sh")
p.arguments = ["-c", "\(kcatPath) -C -b \(bootstrapText) -t \(topic) -e -o beginning -q | wc -l"]
let out = Pipe()
p.standardOutput = out
let kcatStart = clock.now
try p.run()
let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
p.waitUntilExit()
let kcatTime = clock.now - kcatStart
let kcatCount = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
guard kcatCount == kept else { print("kcat read \(kcatCount) of \(kept) records"); exit(1) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
let evtopRate = Double(kept) / seconds(evtopTime)
let kcatRate = Double(kept) / seconds(kcatTime)
let placement = external == nil ? "in the bench process" : "in its own process"
print(String(format: "kafka consume %lld records (%d partitions, mock cluster " + placement + "): evtop consume+decode+correlation index %.0f records/s (%.2f s, %d correlation ids), kcat -C -e -q %.0f records/s (%.2f s): ratio %.2f× kcat; evtop used %.2f s of CPU",
             kept, info.count, evtopRate, seconds(evtopTime), index.counts.count, kcatRate, seconds(kcatTime), evtopRate / kcatRate, evtopCPU))
withExtendedLifetime(cluster) {}
_ = kcatCount
