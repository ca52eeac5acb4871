import Foundation
import KafkaLog
import EventModel

// evtop-kafka-bench: follow a correlation ID on a fresh index, as a user does: the evtop binary runs
// `evtop saga ID --broker kafka://...` with an empty state folder, so it indexes every record of the
// cluster through the product's own path (the correlation indexer over KafkaLog.read) before it looks
// the ID up; beside it, `kcat -C -e -o beginning -q` reads the same records. Prints both rates and the ratio.
//
//   evtop-kafka-bench [--records 1000000] [--partitions 64] [--kcat /usr/bin/kcat] [--evtop .build/release/evtop]
//                     [--bootstrap HOST:PORT,...]
//   evtop-kafka-bench --keep-up 60 [--rate 50000] [--partitions 16]: the dashboard's indexer against a live
//                     producer (see KeepUp.swift)
//   evtop-kafka-bench --keep-up 30 --tail: the same, with the topic's messages view open and tailing (m, f)
//   evtop-kafka-bench --filter-scan: `evtop messages TOPIC --filter header:tenant=t-7 --limit 0 --jsonl | wc -l`
//                     beside `kcat -C -e -q -f '%h %s\n' | grep -c 'tenant=t-7 '` over the same records (1 in 100 match)
//
// Without --bootstrap the mock cluster runs inside this process (its broker threads then share the
// process with evtop's consumer); with it, a mock cluster started by `evtop-mock-cluster --topic
// bench-events:64` in a process of its own, as kcat sees it.

var records = 1_000_000
var partitions: Int32 = 64
var kcatPath = "/usr/bin/kcat"
var evtopPath = ".build/release/evtop"
var external: String?
var keepUpSeconds: Int?
var rate = 50_000
var filterScan = false
var tail = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--records": records = Int(args.next() ?? "") ?? records
    case "--partitions": partitions = Int32(args.next() ?? "") ?? partitions
    case "--kcat": kcatPath = args.next() ?? kcatPath
    case "--evtop": evtopPath = args.next() ?? evtopPath
    case "--bootstrap": external = args.next()
    case "--keep-up": keepUpSeconds = Int(args.next() ?? "") ?? 60
    case "--rate": rate = Int(args.next() ?? "") ?? rate
    case "--filter-scan": filterScan = true
    case "--tail": tail = true
    default: print("usage: evtop-kafka-bench [--records N] [--partitions N] [--kcat PATH] [--evtop PATH] [--bootstrap HOST:PORT,...] [--keep-up SECONDS [--rate N] [--tail]] [--filter-scan]"); exit(2)
    }
}

let topic = "bench-events"
let cluster: KafkaMockCluster? = external == nil ? try KafkaMockCluster(brokers: 3) : nil
if let cluster { try cluster.createTopic(topic, partitions: partitions, replication: 1) }
let bootstrapText = external ?? cluster?.bootstrap ?? ""
let bootstrap = bootstrapText.split(separator: ",").map(String.init)
let writer = try KafkaLog(settings: KafkaSettings(bootstrap: bootstrap, properties: ["linger.ms": "20", "batch.num.messages": "10000"]))
if let keepUpSeconds {
    try await KeepUp(evtop: evtopPath, bootstrap: bootstrapText, topic: topic, partitions: partitions, rate: rate,
                     seconds: keepUpSeconds, writer: writer, tail: tail).run()
    withExtendedLifetime(cluster) {}
    exit(0)
}

let clock = ContinuousClock()
let produceStart = clock.now
var produced = 0
while produced < records {
    let n = min(20_000, records - produced)
    let batch = (produced..<(produced + n)).map { i in
        OutgoingRecord(topic: topic, partition: Int32(i % Int(partitions)), timestampMillis: 1_700_000_000_000 + Int64(i),
                       key: Array("order-\(i / 6)".utf8), headers: [RecordHeader("tenant", "t-\(i % 100)")],
                       value: Array("{\"type\":\"OrderPlaced\",\"correlationId\":\"order-\(i / 6)\",\"amount\":\(i % 997),\"seq\":\(i)}".utf8))
    }
    try await writer.produce(batch)
    produced += n
}
let produceTime = clock.now - produceStart
let info = try await writer.watermarks(topic: topic).partitions
let kept = info.reduce(Int64(0)) { $0 + $1.count }
print("kafka bench topic: \(produced) JSON events produced in \(produceTime) over \(partitions) partitions; the mock kept \(kept) (from the watermarks)")

/// Runs `command` in a shell and returns its stdout and how long it took.
func timed(_ command: String) throws -> (output: String, time: Duration) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    let start = ContinuousClock.now
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (text.trimmingCharacters(in: .whitespacesAndNewlines), ContinuousClock.now - start)
}

if filterScan {
    // The user's command and kcat's pipe over the same records; both must find the same 1 in 100.
    let expected = info.reduce(0) { $0 + Int($1.count) } / 100
    let evtop = try timed("\(evtopPath) messages \(topic) --broker kafka://\(bootstrapText) --filter header:tenant=t-7 --limit 0 --jsonl 2>/dev/null | wc -l")
    let kcat = try timed("\(kcatPath) -C -b \(bootstrapText) -t \(topic) -e -o beginning -q -f '%h %s\\n' | grep -c 'tenant=t-7 '")
    func s(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    // Retention in the mock cuts partitions mid-way: the two must agree exactly, and be about 1 in 100.
    guard let e = Int(evtop.output), let k = Int(kcat.output), e == k, abs(e - expected) <= max(2, expected / 100) else {
        print("filter scan: evtop found \(evtop.output), kcat | grep \(kcat.output), expected about \(expected)")
        exit(1)
    }
    print(String(format: "kafka filter scan of %lld records (%d partitions, header tenant=t-7, %d match): evtop messages --filter %.0f records/s (%.2f s), kcat -C -e | grep %.0f records/s (%.2f s): ratio %.2f× kcat",
                 kept, info.count, e, Double(kept) / s(evtop.time), s(evtop.time), Double(kept) / s(kcat.time), s(kcat.time), s(kcat.time) / s(evtop.time)))
    withExtendedLifetime(cluster) {}
    exit(0)
}

// evtop: the binary, with a state folder of its own, so the index starts empty.
let state = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-kafka-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
// EVTOP_BENCH_KEEP=1 keeps the state folder, to see where the index's bytes go (`dbstat`).
let keepState = ProcessInfo.processInfo.environment["EVTOP_BENCH_KEEP"] != nil
defer { if keepState { print("state kept in \(state.path)") } else { try? FileManager.default.removeItem(at: state) } }
let saga = Process()
saga.executableURL = URL(fileURLWithPath: evtopPath)
saga.arguments = ["saga", "order-42", "--json", "--broker", "kafka://" + bootstrapText]
var environment = ProcessInfo.processInfo.environment
environment["XDG_STATE_HOME"] = state.path
environment["XDG_CONFIG_HOME"] = state.path
saga.environment = environment
let sagaOut = Pipe()
saga.standardOutput = sagaOut
let evtopStart = clock.now
try saga.run()
let sagaJSON = String(decoding: sagaOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
saga.waitUntilExit()
let evtopTime = clock.now - evtopStart
// order-42's six events prove the index saw every partition.
let found = sagaJSON.components(separatedBy: "\"topic\" : \"\(topic)\"").count - 1
guard saga.terminationStatus == 0, found == 6 else { print("evtop saga found \(found) of 6 events (exit \(saga.terminationStatus))"); exit(1) }

// kcat: the same records, printed to a pipe that wc counts.
let (text, kcatTime) = try timed("\(kcatPath) -C -b \(bootstrapText) -t \(topic) -e -o beginning -q | wc -l")
let kcatCount = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
guard kcatCount == kept else { print("kcat read \(kcatCount) of \(kept) records"); exit(1) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
let evtopRate = Double(kept) / seconds(evtopTime)
let kcatRate = Double(kept) / seconds(kcatTime)
let placement = external == nil ? "in the bench process" : "in its own process"
print(String(format: "kafka %lld records (%d partitions, mock cluster " + placement + "): evtop saga ID on a fresh index %.0f records/s (%.2f s), kcat -C -e -q %.0f records/s (%.2f s): ratio %.2f× kcat",
             kept, info.count, evtopRate, seconds(evtopTime), kcatRate, seconds(kcatTime), evtopRate / kcatRate))
// What the index takes on disk: the file `evtop saga` left in its state folder (closed, the WAL folded in).
let indexFolder = state.appendingPathComponent("evtop/index")
let indexBytes = ((try? FileManager.default.contentsOfDirectory(atPath: indexFolder.path)) ?? []).reduce(0) { total, name in
    total + (((try? FileManager.default.attributesOfItem(atPath: indexFolder.appendingPathComponent(name).path)[.size]) as? Int) ?? 0)
}
print(String(format: "correlation index of %lld records: %.1f MB on disk, %.1f bytes a record", kept, Double(indexBytes) / 1e6,
             Double(indexBytes) / Double(max(1, kept))))
withExtendedLifetime(cluster) {}
_ = kcatCount
