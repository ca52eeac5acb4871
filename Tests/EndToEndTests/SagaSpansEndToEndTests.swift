import Foundation
import XCTest

/// A saga known only from spans: the real OpenTelemetry Python SDK exports over OTLP/HTTP into `evtop collect`'s
/// store, beside a demo's records; `evtop saga` lists it and shows its failed span's status and exception.
final class SagaSpansEndToEndTests: XCTestCase {
    /// Starts `evtop collect --otlp 127.0.0.1:0` into `store`, sends Tests/Fixtures/otlp_send.py's three spans
    /// (one conversation id; the consumer span fails with a recorded ValueError), and stops it.
    func collectSpans(binary: String, box: Sandbox, store: String, conversation: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["collect", "--store", store, "--otlp", "127.0.0.1:0"]
        p.environment = ProcessInfo.processInfo.environment.merging(box.environment) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var firstLine = Data()
        let reader = out.fileHandleForReading
        while !firstLine.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            firstLine += chunk
        }
        let text = String(decoding: firstLine, as: UTF8.self)
        let endpoint = try XCTUnwrap(text.split(separator: " ").first { $0.hasPrefix("http://127.0.0.1:") }.map(String.init), text)
        let sent = try runProcess("/usr/bin/env", ["python3", CollectEndToEndTests.pythonSender, endpoint, "none", conversation])
        XCTAssertEqual(sent.status, 0, sent.stderr)
        XCTAssertTrue(sent.stdout.contains("\"ok\": true"), sent.stdout + sent.stderr)
        p.terminate()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        _ = reader.readDataToEndOfFile()
    }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testASagaKnownOnlyFromSpansIsListedAndItsFailureShown() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("spans.db")
        let demo = try runProcess(binary, ["demo", "--headless", "--store", store, "--rate", "20", "--duration", "2", "--otlp", "off"],
                                  env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        try collectSpans(binary: binary, box: box, store: store, conversation: "ord-spans-only")

        // The list: the span-only saga (the newest activity) first, the demo's sagas after it, each once.
        let list = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--json", "--limit", "500"], env: box.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let sagas = try XCTUnwrap(try json(list.stdout)["sagas"] as? [[String: Any]])
        let ids = sagas.compactMap { $0["correlationID"] as? String }
        XCTAssertEqual(ids.first, "ord-spans-only", list.stdout.prefix(800) + "")
        XCTAssertEqual(Set(ids).count, ids.count, "each saga once")
        XCTAssertTrue(ids.dropFirst().contains { $0.hasPrefix("ord-") }, "the demo's record sagas are listed too")
        let row = try XCTUnwrap(sagas.first)
        XCTAssertEqual(row["state"] as? String, "failed", "the consumer span failed")
        XCTAssertEqual(row["services"] as? [String], ["orders"])
        XCTAssertEqual(row["lastEvent"] as? String, "orders process")

        let textList = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--state", "failed"], env: box.environment)
        XCTAssertEqual(textList.status, 0, textList.stderr)
        XCTAssertTrue(textList.stdout.contains("ord-spans-only"), textList.stdout)
        // Read-only (no index: a bounded scan of records) still lists it from the spans.
        let readOnly = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--read-only", "--json", "--limit", "1"], env: box.environment)
        XCTAssertEqual(readOnly.status, 0, readOnly.stderr)
        XCTAssertEqual((try json(readOnly.stdout)["sagas"] as? [[String: Any]])?.first?["correlationID"] as? String, "ord-spans-only")

        // Its timeline: the status message and the exception the SDK recorded, in JSON and text.
        let detail = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "ord-spans-only", "--json"], env: box.environment)
        XCTAssertEqual(detail.status, 0, detail.stderr)
        let timeline = try json(detail.stdout)
        XCTAssertEqual(timeline["state"] as? String, "failed")
        let items = try XCTUnwrap(timeline["items"] as? [[String: Any]])
        XCTAssertEqual(items.count, 2, "the producer span and the consumer linked to it (the root has no conversation)")
        let failed = try XCTUnwrap(items.first { $0["status"] as? String == "error" }, detail.stdout)
        XCTAssertEqual(failed["label"] as? String, "orders process")
        XCTAssertEqual(failed["statusMessage"] as? String, "payment failed")
        let exception = try XCTUnwrap((failed["exceptions"] as? [[String: Any]])?.first, detail.stdout)
        XCTAssertEqual(exception["type"] as? String, "ValueError")
        XCTAssertEqual(exception["message"] as? String, "card declined")
        let stack = try XCTUnwrap(exception["stacktrace"] as? [String], detail.stdout)
        XCTAssertTrue(stack.contains { $0.contains("Traceback") } && stack.last == "ValueError: card declined", "\(stack)")

        let text = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "ord-spans-only"], env: box.environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("FAILED") && text.stdout.contains("state from span status only"), text.stdout)
        XCTAssertTrue(text.stdout.contains("status: ERROR: payment failed"), text.stdout)
        XCTAssertTrue(text.stdout.contains("exception: ValueError: card declined"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Traceback (most recent call last):"), text.stdout)

        // The dashboard's timeline of it (the newest item, the failed span, selected): the failure in the detail.
        let screen = try runProcess(binary, ["snapshot", "--broker", "sqlite:" + store, "--view", "saga:ord-spans-only",
                                             "--width", "120", "--height", "40", "--interval", "0"], env: box.environment)
        XCTAssertEqual(screen.status, 0, screen.stderr)
        XCTAssertTrue(screen.stdout.contains("FAILED") && screen.stdout.contains("exception: ValueError: card declined"), screen.stdout)
        // And the sagas list has its row.
        let listScreen = try runProcess(binary, ["snapshot", "--broker", "sqlite:" + store, "--view", "sagas",
                                                 "--width", "160", "--height", "40", "--interval", "0"], env: box.environment)
        XCTAssertEqual(listScreen.status, 0, listScreen.stderr)
        XCTAssertTrue(listScreen.stdout.contains("ord-spans-only"), listScreen.stdout)
    }
}
