import Foundation
import XCTest

/// Sagas on RabbitMQ through the tap, against a private node of this suite's own: the real binary taps
/// (`evtop collect --broker amqp://…` headless, or the dashboard in tmux), pika publishes sagas over a
/// topic, a direct, a fanout and a headers exchange, and `evtop saga --broker … --json` reads them back
/// from the tap's store. The service queues keep every message: the tap never reads them.
final class RabbitMQTapTests: RabbitNodeTestCase {

    /// The service queues of the fixture's saga flow.
    static let serviceQueues = ["audit-svc", "billing", "payments-svc", "shipping", "warehouse-svc"]

    /// A fresh vhost with the saga flow's exchanges, queues and bindings, and no message yet.
    func sagaFlow(_ name: String = #function) throws -> (node: RabbitNode, vhost: String, url: String) {
        guard let node = Self.node else { throw NSError(domain: "rabbitmq", code: 1, userInfo: [NSLocalizedDescriptionKey: Self.nodeError ?? "no RabbitMQ node"]) }
        let vhost = String(name.filter { $0.isLetter || $0.isNumber }.prefix(40))
        try node.client([node.managementURL, "mkvhost", vhost])
        let url = "amqp://guest:guest@127.0.0.1:\(node.amqpPort)/\(vhost)"
        try node.client([url, "setup"])
        try node.client([url, "sagas", "0"])
        return (node, vhost, url)
    }

    /// The vhost's queues by name: (messages, consumers, exclusive), from the management API.
    func queues(_ node: RabbitNode, _ vhost: String) throws -> [String: (messages: Int?, consumers: Int?, exclusive: Bool)] {
        let text = try node.client([node.managementURL, "queues", vhost])
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [Any]], text)
        return parsed.mapValues { v in (v[0] as? Int, v[1] as? Int, (v[2] as? Bool) ?? false) }
    }

    /// A queue's ready messages, exactly (a passive declare: no statistics delay).
    func depth(_ node: RabbitNode, _ url: String, _ queue: String) throws -> Int {
        Int(try node.client([url, "count", queue]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func tapQueues(_ node: RabbitNode, _ vhost: String) throws -> [String] {
        try queues(node, vhost).keys.filter { $0.hasPrefix("evtop.tap.") }.sorted()
    }

    /// Polls until `done` holds (statistics refresh every second); returns whether it did.
    func eventually(_ limit: Double = 30, _ done: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if try done() { return true }
            usleep(200_000)
        }
        return try done()
    }

    func evtop(_ args: [String], _ node: RabbitNode, _ url: String, _ sandbox: Sandbox) throws -> RunResult {
        try runProcess(try evtopBinary(), args + ["--broker", url, "--management", node.managementURL], env: sandbox.environment, limit: 60)
    }

    func testCollectTapsEveryExchangeTypeAndSagaShowsEachSagasRecordsInOrderWhileTheServiceQueuesKeepTheirMessages() throws {
        let (node, vhost, url) = try sagaFlow()
        let sandbox = try Sandbox()
        let out = sandbox.path("collect.out")
        FileManager.default.createFile(atPath: out, contents: nil)
        let collect = Process()
        collect.executableURL = URL(fileURLWithPath: try evtopBinary())
        collect.arguments = ["collect", "--broker", url, "--management", node.managementURL, "--otlp", "127.0.0.1:0"]
        collect.environment = ProcessInfo.processInfo.environment.merging(sandbox.environment) { $1 }
        collect.standardInput = FileHandle.nullDevice
        collect.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        collect.standardError = collect.standardOutput
        try collect.run()
        defer { if collect.isRunning { collect.terminate(); collect.waitUntilExit() } }
        func said() -> String { (try? String(contentsOfFile: out, encoding: .utf8)) ?? "" }

        // orders (topic), orders.dlx, payments (direct), fulfilment (fanout), audit (headers) and the
        // server's amq.* that are not amq.rabbitmq.*; amq.direct has no binding, so no key to tap.
        XCTAssertTrue(eventually { said().contains("tap: 0 records from 9 exchanges") }, said())
        let tap = try tapQueues(node, vhost)
        XCTAssertEqual(tap.count, 1, "one tap queue: \(tap)")
        XCTAssertEqual(try queues(node, vhost)[tap.first ?? ""]?.exclusive, true, "exclusive: it goes with evtop's connection")

        try node.client([url, "sagas", "3"])
        XCTAssertTrue(eventually { said().contains("tap: 12 records from 9 exchanges") }, said())

        let one = try evtop(["saga", "saga-1", "--json"], node, url, sandbox)
        XCTAssertEqual(one.status, 0, one.stderr)
        let timeline = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any], one.stdout)
        let items = try XCTUnwrap(timeline["items"] as? [[String: Any]], one.stdout)
        XCTAssertEqual(items.compactMap { $0["label"] as? String }, ["OrderPlaced", "PaymentCharged", "OrderShipped", "SagaAudited"], one.stdout)
        XCTAssertEqual(items.compactMap { $0["topic"] as? String }, ["orders", "payments", "fulfilment", "audit"],
                       "each record's topic is the exchange it was published to")
        XCTAssertEqual(timeline["correlationID"] as? String, "saga-1")
        XCTAssertTrue((timeline["source"] as? String)?.contains("tap") == true, "\(timeline["source"] ?? "")")

        let list = try evtop(["saga", "--json"], node, url, sandbox)
        XCTAssertEqual(list.status, 0, list.stderr)
        let listed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any], list.stdout)
        XCTAssertEqual(Set(((listed["sagas"] as? [[String: Any]]) ?? []).compactMap { $0["correlationID"] as? String }), ["saga-0", "saga-1", "saga-2"])

        // Every service queue still holds its 3 messages: the tap took copies, not theirs.
        for q in Self.serviceQueues {
            XCTAssertEqual(try depth(node, url, q), 3, q)
        }
        XCTAssertTrue(try eventually { try queues(node, vhost).filter { Self.serviceQueues.contains($0.key) }.allSatisfy { $0.value.consumers == 0 } },
                      "nothing consumes a service queue")

        // An exchange created while the tap runs is tapped at the next listing (every 15 s).
        try node.client([url, "mkexchange", "refunds", "direct", "refunds-svc", "refund.issued"])
        XCTAssertTrue(eventually(40) { said().contains("tap: 12 records from 10 exchanges") }, said())
        try node.client([url, "publish", "refund.issued", "1", "--exchange", "refunds", "--correlation", "saga-1"])
        XCTAssertTrue(eventually { said().contains("tap: 13 records from 10 exchanges") }, said())
        let refunded = try evtop(["saga", "saga-1", "--json"], node, url, sandbox)
        XCTAssertTrue(refunded.stdout.contains("\"refunds\""), refunded.stdout)
        XCTAssertEqual(try depth(node, url, "refunds-svc"), 1)

        collect.terminate()
        collect.waitUntilExit()
        XCTAssertEqual(collect.terminationStatus, 0, said())
        XCTAssertTrue(said().contains("stopped by SIGTERM; tap: 13 records from 10 exchanges; stopped"), said())
        XCTAssertTrue(try eventually(10) { try tapQueues(node, vhost).isEmpty }, "the tap queue is gone with evtop")
        // What was recorded stays readable after the tap is gone.
        let after = try evtop(["saga", "saga-2", "--json"], node, url, sandbox)
        XCTAssertEqual(after.status, 0, after.stderr)
    }

    func testReadOnlyMakesNoTapQueueAndSagaSaysWhenNothingWasEverTapped() throws {
        let (node, vhost, url) = try sagaFlow()
        let sandbox = try Sandbox()
        let binary = try evtopBinary()
        let tmux = try TmuxSession(width: 140, height: 16,
                                   command: "\(binary) --read-only --broker '\(url)' --management \(node.managementURL)", env: sandbox.environment)
        defer { tmux.sendKeys("q") }
        tmux.waitFor("the topics view") { $0.contains("billing") }
        tmux.sendKeys("3")
        tmux.waitFor("the read-only note") { $0.contains("read-only: no tap queue") }
        try node.client([url, "sagas", "1"])
        XCTAssertFalse(try eventually(3) { try !tapQueues(node, vhost).isEmpty }, "no evtop.tap queue with --read-only")
        tmux.sendKeys("q")

        let none = try evtop(["saga", "saga-0"], node, url, sandbox)
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("nothing was ever tapped"), none.stderr)
        XCTAssertEqual(try depth(node, url, "billing"), 1, "reading sagas never touches a service queue")
    }

    func testTheDashboardTapsWhileItRunsAndItsSagasViewSaysSoWithFigures() throws {
        let (node, vhost, url) = try sagaFlow()
        let sandbox = try Sandbox()
        let binary = try evtopBinary()
        let tmux = try TmuxSession(width: 140, height: 20,
                                   command: "\(binary) --broker '\(url)' --management \(node.managementURL) --otlp off", env: sandbox.environment)
        defer { tmux.sendKeys("q") }
        tmux.waitFor("the topics view") { $0.contains("billing") }
        tmux.sendKeys("3")
        tmux.waitFor("the tap's figures") { $0.contains("tap: 0 records from 9 exchanges") }
        XCTAssertEqual(try tapQueues(node, vhost).count, 1)
        try node.client([url, "sagas", "2", "--prefix", "dash"])
        tmux.waitFor("two sagas tapped") { $0.contains("tap: 8 records from 9 exchanges") && $0.contains("dash-0") && $0.contains("dash-1") }
        tmux.sendKeys("Enter")
        tmux.waitFor("a tapped saga's timeline") { $0.contains("SagaAudited") && $0.contains("fulfilment p0@") }
        tmux.sendKeys("q")
        XCTAssertTrue(try eventually(10) { try tapQueues(node, vhost).isEmpty }, "the tap queue is gone when the dashboard quits")
        XCTAssertEqual(try depth(node, url, "payments-svc"), 2)
    }
}
