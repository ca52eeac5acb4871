import Foundation
import XCTest
import KafkaLog
import EventModel

/// A process run to completion: exit status, stdout bytes, stderr text.
struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs kcat (the independent Kafka client) with `arguments`, feeding `input` on stdin.
func kcat(_ arguments: [String], input: Data? = nil, timeout: TimeInterval = 30) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
    p.arguments = arguments
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let input { inp.fileHandleForWriting.write(input) }
    try inp.fileHandleForWriting.close()
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    return ProcessResult(status: p.terminationStatus, stdout: data, stderr: String(decoding: errData, as: UTF8.self))
}

/// Produces text lines with kcat (`-k key`, `-H name=value`...), failing the test when kcat does.
func kcatProduce(_ bootstrap: String, topic: String, lines: [String], key: String? = nil, headers: [String] = [],
                 partition: Int32? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
    var args = ["-P", "-b", bootstrap, "-t", topic, "-q"]
    if let key { args += ["-k", key] }
    if let partition { args += ["-p", String(partition)] }
    for h in headers { args += ["-H", h] }
    let r = try kcat(args, input: Data((lines.joined(separator: "\n") + "\n").utf8))
    XCTAssertEqual(r.status, 0, "kcat -P failed: \(r.stderr)", file: file, line: line)
}

/// A fresh 3-broker mock cluster and a KafkaLog on it.
func makeMockCluster(groups: [String] = []) throws -> (KafkaMockCluster, KafkaLog) {
    let cluster = try KafkaMockCluster(brokers: 3)
    let log = try KafkaLog(settings: KafkaSettings(bootstrap: cluster.bootstrap.split(separator: ",").map(String.init),
                                                   properties: ProcessInfo.processInfo.environment["EVTOP_KAFKA_DEBUG"].map { ["debug": $0] } ?? [:],
                                                   groups: groups))
    return (cluster, log)
}

/// Polls `body` until it returns non-nil (the mock applies writes asynchronously), at most ~10 s.
func eventually<T>(_ body: () async throws -> T?) async throws -> T? {
    for _ in 0..<100 {
        if let v = try await body() { return v }
        try await Task.sleep(for: .milliseconds(100))
    }
    return nil
}
