import Foundation
import XCTest

/// `evtop record` against a running demo, then the file opened by other processes: every view renders,
/// `[` `]` move the clock, and nothing writes to the file.
final class RecordEndToEndTests: XCTestCase {
    private struct FileState: Equatable {
        var bytes: Data
        var modified: Date?
        var folder: [String]
    }

    private func state(of file: String) throws -> FileState {
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        return FileState(bytes: try Data(contentsOf: URL(fileURLWithPath: file)), modified: attributes[.modificationDate] as? Date,
                         folder: try FileManager.default.contentsOfDirectory(atPath: folder).sorted())
    }

    func testAnIncidentRecordedFromTheDemoPlaysBackInAnotherProcess() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("demo.db")
        let demo = try startHeadlessDemo(binary, store: store, rate: 40, seconds: 120, env: box.environment)
        defer { demo.stop() }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? runProcess(binary, ["topics", "--broker", "sqlite:" + store], env: box.environment))?.stdout.contains("orders") ?? false) {
            usleep(200_000)
        }

        // Refused before anything is made: a bad regex, a file already there.
        let folder = box.root.appendingPathComponent("incident").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/incident.evtop"
        let badRegex = try runProcess(binary, ["record", "--broker", "sqlite:" + store, "--out", file, "--topics", "(orders"], env: box.environment)
        XCTAssertNotEqual(badRegex.status, 0)
        XCTAssertTrue(badRegex.stderr.contains("not a regular expression"), badRegex.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file))

        // 60 s of the demo, from the beginning of its log, of the topics whose name starts with orders or payments.
        let recorded = try runProcess(binary, ["record", "--broker", "sqlite:" + store, "--out", file, "--from", "beginning",
                                               "--duration", "60s", "--topics", "^(orders|payments)"], env: box.environment, limit: 180)
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        XCTAssertTrue(recorded.stdout.contains("recorded 4 topics"), recorded.stdout)
        XCTAssertTrue(recorded.stdout.contains("open it with: evtop --broker file:" + file), recorded.stdout)
        let again = try runProcess(binary, ["record", "--broker", "sqlite:" + store, "--out", file, "--duration", "1s"], env: box.environment)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)
        demo.stop()
        let before = try state(of: file)

        // The topics the regex chose, with the recorded watermarks; every record up to them is in the file.
        let topics = try runProcess(binary, ["topics", "--broker", "file:" + file, "--json"], env: box.environment)
        XCTAssertEqual(topics.status, 0, topics.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(topics.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(Set(rows.compactMap { $0["topic"] as? String }), ["orders", "orders.DLT", "payments", "payments.DLT"])
        let orders = try XCTUnwrap(rows.first { ($0["topic"] as? String) == "orders" })
        let total = try XCTUnwrap(orders["total"] as? Int, "\(orders)")
        XCTAssertGreaterThan(total, 1_000, "60 s at 40 orders/s")
        let messages = try runProcess(binary, ["messages", "orders", "--broker", "file:" + file, "--limit", "0", "--jsonl"], env: box.environment)
        XCTAssertEqual(messages.status, 0, messages.stderr)
        XCTAssertEqual(messages.stdout.split(separator: "\n").count, total, "every record of orders up to the recorded end is in the file")

        // Every view renders from the file, at the recording's end.
        let expected = ["topics": "payments.DLT", "lag": "payment-service", "sagas": "ord-", "dlq": "orders.DLT",
                        "insights": "Insights", "messages:orders": "OrderPlaced", "partitions:orders": "orders"]
        for (view, text) in expected.sorted(by: { $0.key < $1.key }) {
            let shot = try runProcess(binary, ["snapshot", "--broker", "file:" + file, "--view", view, "--width", "120", "--height", "30"],
                                      env: box.environment, limit: 120)
            XCTAssertEqual(shot.status, 0, "\(view): \(shot.stderr)")
            XCTAssertTrue(shot.stdout.contains(text), "\(view) shows no \(text):\n\(shot.stdout)")
            XCTAssertTrue(shot.stdout.contains("recorded") && shot.stdout.contains("end of "), "\(view):\n\(shot.stdout)")
        }
        // A saga from the file, with its records and the spans copied with them.
        let id = try XCTUnwrap(messages.stdout.split(separator: "\n").first.flatMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["correlationId"] as? String
        })
        let saga = try runProcess(binary, ["saga", id, "--broker", "file:" + file, "--json"], env: box.environment)
        XCTAssertEqual(saga.status, 0, saga.stderr)
        XCTAssertTrue(saga.stdout.contains("\"spanId\"") || saga.stdout.contains("\"span\""), "no span in the saga of \(id):\n\(saga.stdout.prefix(2_000))")

        // The dashboard on the file, in a terminal: the clock moves back and on.
        let tmux = try TmuxSession(width: 120, height: 30, command: "\(binary) --broker file:\(file)", env: box.environment)
        tmux.waitFor("the recording at its end") { $0.contains("recorded") && $0.contains("end of ") && $0.contains("orders") }
        tmux.send(literal: "[")
        tmux.waitFor("the clock 10 s back") { $0.contains("−10s of ") }
        tmux.send(literal: "{")
        // A minute further back: the recording lasted about a minute, so the clock stops at its start (−59s or so).
        tmux.waitFor("the clock a minute further back") { $0.contains(" of ") && !$0.contains("−10s of ") && !$0.contains("end of ") }
        tmux.send(literal: "2")
        tmux.waitFor("the lag view at that moment") { $0.contains("Consumer groups") && $0.contains("payment-service") }
        tmux.send(literal: "}")
        tmux.send(literal: "]")
        tmux.send(literal: "]")
        tmux.waitFor("the clock back at the end") { $0.contains("end of ") }
        tmux.send(literal: "q")
        tmux.waitFor("the shell after quitting") { $0.contains("$ ") && !$0.contains("recorded") }

        // Named with sqlite: by a command that writes, it is still played back: refused, never opened for writing.
        let requeue = try runProcess(binary, ["dlq", "requeue", "--broker", "sqlite:" + file, "--dlq-topic", "orders.DLT", "--yes"],
                                     env: box.environment)
        XCTAssertNotEqual(requeue.status, 0, requeue.stdout)
        let lag = try runProcess(binary, ["lag", "--broker", "sqlite:" + file, "--json"], env: box.environment)
        XCTAssertTrue(lag.stdout.contains("payment-service"), lag.stdout + lag.stderr)

        // Nothing wrote to the file, and nothing was made beside it.
        XCTAssertEqual(try state(of: file), before)
    }
}
