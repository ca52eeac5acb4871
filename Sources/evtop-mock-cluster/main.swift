import Foundation
import KafkaLog

// evtop-mock-cluster: starts librdkafka's mock cluster (3 brokers by default), prints its bootstrap
// address on the first line of stdout, then obeys commands on stdin, one per line:
//   topic NAME PARTITIONS      create a topic
//   down ID | up ID            take broker ID down / bring it back
//   errors APIKEY COUNT CODE   fail the next COUNT requests of API APIKEY with error CODE
//   leader TOPIC PARTITION ID  move a partition's leadership
// Each command answers "ok" or "error: ...". At end of input it keeps running until killed.
/// Prints a line and flushes at once: the reader is a pipe.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
var brokers: Int32 = 3
var topics: [(String, Int32)] = []
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--brokers": brokers = Int32(args.next() ?? "") ?? 3
    case "--topic":
        let spec = (args.next() ?? "").split(separator: ":")
        if let name = spec.first { topics.append((String(name), spec.count > 1 ? Int32(spec[1]) ?? 4 : 4)) }
    default:
        FileHandle.standardError.write("usage: evtop-mock-cluster [--brokers N] [--topic NAME:PARTITIONS]...\n".data(using: .utf8)!)
        exit(2)
    }
}
let cluster: KafkaMockCluster
do {
    cluster = try KafkaMockCluster(brokers: brokers)
    for (name, partitions) in topics { try cluster.createTopic(name, partitions: partitions) }
} catch {
    FileHandle.standardError.write("evtop-mock-cluster: \(error)\n".data(using: .utf8)!)
    exit(1)
}
say(cluster.bootstrap)
while let line = readLine() {
    let w = line.split(separator: " ").map(String.init)
    guard let cmd = w.first else { continue }
    do {
        switch (cmd, w.count) {
        case ("topic", 3): try cluster.createTopic(w[1], partitions: Int32(w[2]) ?? 1)
        case ("down", 2): cluster.setBroker(Int32(w[1]) ?? 1, up: false)
        case ("up", 2): cluster.setBroker(Int32(w[1]) ?? 1, up: true)
        case ("errors", 4): cluster.pushRequestErrors(apiKey: Int16(w[1]) ?? 0, count: Int(w[2]) ?? 1, error: Int32(w[3]) ?? 0)
        case ("leader", 4): cluster.setLeader(topic: w[1], partition: Int32(w[2]) ?? 0, leader: Int32(w[3]) ?? 1)
        default: say("error: unknown command '\(line)'"); continue
        }
        say("ok")
    } catch {
        say("error: \(error)")
    }
}
while true { sleep(3600) }
