import Foundation
import XCTest

/// `evtop collect`: the real binary receiving from the real OpenTelemetry Python SDK into a store.
final class CollectEndToEndTests: XCTestCase {
    /// Tests/Fixtures/otlp_send.py.
    static var pythonSender: String {
        URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/otlp_send.py").path
    }

    /// Runs SQL against a store with Python's sqlite3 and returns the rows as text.
    func query(_ store: String, _ sql: String) throws -> String {
        let r = try runProcess("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print('|'.join(str(v) for v in row))
            """, store, sql])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testCollectReceivesFromThePythonSDKAndStopsOnSIGTERM() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("traces.db")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["collect", "--store", store, "--otlp", "127.0.0.1:0"]
        p.environment = ProcessInfo.processInfo.environment.merging(box.environment) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        // The first line says where it listens.
        var firstLine = Data()
        let reader = out.fileHandleForReading
        while !firstLine.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            firstLine += chunk
        }
        let text = String(decoding: firstLine, as: UTF8.self)
        XCTAssertTrue(text.contains("into \(store)"), text)
        let endpoint = try XCTUnwrap(text.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init), text)
        XCTAssertTrue(endpoint.hasSuffix("/v1/traces"))

        let sent = try runProcess("/usr/bin/env", ["python3", Self.pythonSender, endpoint, "gzip", "ord-e2e"])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertTrue(sent.stdout.contains("\"ok\": true"), sent.stdout + sent.stderr)

        p.terminate()  // SIGTERM
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "a clean stop on SIGTERM")
        let rest = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(rest.contains("stopped by SIGTERM; 3 spans stored"), rest)

        XCTAssertEqual(try query(store, "SELECT COUNT(*), COUNT(DISTINCT trace_id) FROM spans"), "3|2")
        XCTAssertEqual(try query(store, "SELECT service, name, kind FROM spans WHERE correlation_id = 'ord-e2e'"),
                       "orders|orders publish|4")
        XCTAssertEqual(try query(store, "SELECT status_code, status_message FROM spans WHERE kind = 5"), "2|payment failed")
        // The consumer's link to the producer's span (another trace) is indexed; `spans` is a view of `span_rows`.
        XCTAssertEqual(try query(store, "SELECT COUNT(*) FROM span_link_targets"), "1")
    }

    func testRetentionOptionsAreCheckedBeforeAnythingStarts() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        for (option, value, says) in [("--span-retention", "5x", "--span-retention takes an age"),
                                      ("--span-retention", "-1h", "--span-retention takes an age"),
                                      ("--span-max", "lots", "--span-max takes a positive number")] {
            let r = try runProcess(binary, ["collect", "--store", box.path("r.db"), "\(option)=\(value)"], env: box.environment, limit: 20)
            XCTAssertNotEqual(r.status, 0, "\(option) \(value)")
            XCTAssertTrue(r.stderr.contains(says), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: box.path("r.db")), "nothing created for a bad option")
        }
        let help = try runProcess(binary, ["ui", "--help"], env: box.environment, limit: 20)
        XCTAssertTrue(help.stdout.contains("--span-retention") && help.stdout.contains("--span-max"), help.stdout)
    }

    func testCollectRefusesABusyPort() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        // Hold a port with a listener of our own.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import socket, sys, time
            s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
            print(s.getsockname()[1], flush=True); time.sleep(30)
            """]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { holder.terminate() }
        let port = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try runProcess(binary, ["collect", "--store", box.path("t.db"), "--otlp", "127.0.0.1:\(port)"],
                               env: box.environment, limit: 20)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cannot listen on 127.0.0.1:\(port)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("address already in use"), r.stderr)
    }
}
