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
    default: print("usage: evtop-kafka-bench [--records N] [--partitions N] [--kcat PATH] [--evtop PATH] [--bootstrap HOST:PORT,...] [--keep-up SECONDS [--rate N]]"); exit(2)
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
                     seconds: keepUpSeconds, writer: writer).run()
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
                       key: Array("order-\(i / 6)".utf8),
                       value: Array("{\"type\":\"OrderPlaced\",\"correlationId\":\"order-\(i / 6)\",\"amount\":\(i % 997),\"seq\":\(i)}".utf8))
    }
    try await writer.produce(batch)
    produced += n
}
let produceTime = clock.now - produceStart
let info = try await writer.watermarks(topic: topic).partitions
let kept = info.reduce(Int64(0)) { $0 + $1.count }
print("kafka bench topic: \(produced) JSON events produced in \(produceTime) over \(partitions) partitions; the mock kept \(kept) (from the watermarks)")

// evtop: the binary, with a state folder of its own, so the index starts empty.
let state = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-kafka-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: state) }
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
print(String(format: "kafka %lld records (%d partitions, mock cluster " + placement + "): evtop saga ID on a fresh index %.0f records/s (%.2f s), kcat -C -e -q %.0f records/s (%.2f s): ratio %.2f× kcat",
             kept, info.count, evtopRate, seconds(evtopTime), kcatRate, seconds(kcatTime), evtopRate / kcatRate))
withExtendedLifetime(cluster) {}
_ = kcatCount
