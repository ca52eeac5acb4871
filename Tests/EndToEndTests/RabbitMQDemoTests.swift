import Foundation
import XCTest

/// `evtop demo --broker amqp://…` against a private RabbitMQ node: the real binary runs the order system on
/// a fresh vhost; pika and the management API, on the other side, check what it declared and that RabbitMQ
/// itself dead-lettered the poison (x-death, reason rejected); evtop's own commands read it back.
final class RabbitMQDemoTests: RabbitNodeTestCase {

    /// The services and how many consumers each attaches (DemoService.all).
    static let services = ["order-service": 1, "payment-service": 2, "inventory-service": 2, "shipping-service": 1]

    func vhost(_ name: String = #function) throws -> (node: RabbitNode, url: String) {
        guard let node = Self.node else { throw NSError(domain: "rabbitmq", code: 1, userInfo: [NSLocalizedDescriptionKey: Self.nodeError ?? "no RabbitMQ node"]) }
        let vhost = String(name.filter { $0.isLetter || $0.isNumber }.prefix(40))
        try node.client([node.managementURL, "mkvhost", vhost])
        return (node, "amqp://guest:guest@127.0.0.1:\(node.amqpPort)/\(vhost)")
    }

    /// Starts the binary without waiting for it; its output goes to files in the sandbox.
    func start(_ args: [String], sandbox: Sandbox) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try evtopBinary())
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(sandbox.environment) { $1 }
        p.standardInput = FileHandle.nullDevice
        for name in ["demo.out", "demo.err"] { FileManager.default.createFile(atPath: sandbox.path(name), contents: nil) }
        p.standardOutput = FileHandle(forWritingAtPath: sandbox.path("demo.out"))
        p.standardError = FileHandle(forWritingAtPath: sandbox.path("demo.err"))
        try p.run()
        return p
    }

    /// Waits at most `limit` seconds for the process to end by itself (then kills it): true when it did.
    func ended(_ p: Process, within limit: Double) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        guard !p.isRunning else {
            p.terminate()
            p.waitUntilExit()
            return false
        }
        return true
    }

    /// Runs `evtop ARGS --json` until `done` accepts the JSON (the management API counts within a second or two).
    /// `evtop lag` exits 1 for WARN and 2 for STALL or STOP: `statuses` says which exits are fine.
    func json(_ args: [String], node: RabbitNode, sandbox: Sandbox, statuses: Set<Int32> = [0], until done: (Any) -> Bool) throws -> Any {
        var last: Any = NSNull()
        for _ in 0..<60 {
            let r = try runProcess(try evtopBinary(), args + ["--management", node.managementURL, "--json"], env: sandbox.environment)
            XCTAssertTrue(statuses.contains(r.status), "exit \(r.status): \(r.stderr)")
            last = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) ?? NSNull()
            if done(last) { return last }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return last
    }

    func testTheDemoDeclaresItsFlowConsumesWithAcksAndRabbitMQDeadLettersThePoison() throws {
        let (node, url) = try vhost()
        let sandbox = try Sandbox()
        let demo = try start(["demo", "--broker", url, "--management", node.managementURL, "--headless", "--duration", "20",
                              "--rate", "25", "--poison-rate", "0.03", "--seed", "7", "--otlp", "off"], sandbox: sandbox)

        // While it runs, every service queue has its consumers attached (the first inventory episode comes at 30 s).
        let running = try json(["lag", "--broker", url, "--window", "1", "--interval", "0.5"], node: node, sandbox: sandbox,
                               statuses: [0, 1, 2, 3]) { any in
            let groups = (any as? [[String: Any]]) ?? []
            return Dictionary(groups.compactMap { g in (g["group"] as? String).map { ($0, g["members"] as? Int ?? -1) } }) { a, _ in a } == Self.services
        }
        let members = ((running as? [[String: Any]]) ?? []).compactMap { g in (g["group"] as? String).map { ($0, g["members"] as? Int ?? -1) } }
        XCTAssertEqual(Dictionary(members) { a, _ in a }, Self.services, "\(running)")

        XCTAssertTrue(ended(demo, within: 90), "the demo stops after --duration")
        XCTAssertEqual(demo.terminationStatus, 0, (try? String(contentsOfFile: sandbox.path("demo.err"), encoding: .utf8)) ?? "")
        let out = try String(contentsOfFile: sandbox.path("demo.out"), encoding: .utf8)
        XCTAssertTrue(out.contains("attach with: evtop --broker amqp://***@127.0.0.1:\(node.amqpPort)/"), out)
        // The tap's local store could keep spans; this run turned them off, and the banner says so.
        XCTAssertTrue(out.contains("demo spans off (--otlp off)"), out)
        XCTAssertTrue(out.contains("dead letters"), out)
        XCTAssertFalse(out.contains("guest:guest"), "no password in the output:\n\(out)")

        // The topology, as the management API shows it.
        let vhost = String(url.split(separator: "/").last ?? "")
        let described = try node.client([node.managementURL, "describe", vhost])
        let topology = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(described.utf8)) as? [String: Any])
        let exchanges = try XCTUnwrap(topology["exchanges"] as? [String: [String: Any]])
        for family in ["orders", "payments", "inventory", "shipments"] {
            XCTAssertEqual(exchanges[family]?["type"] as? String, "topic", family)
            XCTAssertEqual(exchanges[family]?["durable"] as? Bool, true, family)
        }
        XCTAssertEqual(exchanges["services.dlx"]?["type"] as? String, "fanout")
        let queues = try XCTUnwrap(topology["queues"] as? [String: [String: Any]])
        for service in Self.services.keys {
            XCTAssertEqual((queues[service]?["arguments"] as? [String: Any])?["x-dead-letter-exchange"] as? String, "services.dlx", service)
            XCTAssertEqual(queues[service]?["durable"] as? Bool, true, service)
        }
        XCTAssertNotNil(queues["services.dlq"])
        let bindings = Set(((topology["bindings"] as? [[String: String]]) ?? []).map { "\($0["source"] ?? "") -[\($0["key"] ?? "")]-> \($0["destination"] ?? "")" })
        XCTAssertEqual(bindings, [
            "orders -[OrderPlaced]-> payment-service", "inventory -[OutOfStock]-> payment-service",
            "inventory -[InventoryReleased]-> payment-service", "payments -[PaymentAuthorized]-> inventory-service",
            "shipments -[ShipmentFailed]-> inventory-service", "inventory -[InventoryReserved]-> shipping-service",
            "payments -[PaymentDeclined]-> order-service", "payments -[PaymentRefunded]-> order-service",
            "shipments -[OrderShipped]-> order-service", "services.dlx -[]-> services.dlq",
        ])

        // evtop reads it back: the service queues are the groups, each with acks counted; the DLQ is found
        // from the queues' arguments.
        let lag = try json(["lag", "--broker", url, "--window", "1", "--interval", "0.5"], node: node, sandbox: sandbox,
                           statuses: [0, 1, 2, 3]) { any in
            // The management API's figures trail by a second or two.
            ((any as? [[String: Any]]) ?? []).allSatisfy { g in
                (((g["partitions"] as? [[String: Any]])?.first?["acknowledged"] as? Int) ?? 0) > 0 && g["members"] as? Int == 0
            }
        }
        let groups = try XCTUnwrap(lag as? [[String: Any]])
        XCTAssertEqual(Set(groups.compactMap { $0["group"] as? String }), Set(Self.services.keys), "the DLQ is no group")
        for g in groups {
            let partition = try XCTUnwrap((g["partitions"] as? [[String: Any]])?.first)
            XCTAssertGreaterThan(partition["acknowledged"] as? Int ?? 0, 0, "\(g)")
            XCTAssertEqual(g["members"] as? Int, 0, "the demo's consumers are gone: \(g)")
        }

        let topics = try json(["topics", "--broker", url, "--interval", "0"], node: node, sandbox: sandbox) { _ in true }
        let dlqFlags = Dictionary(((topics as? [[String: Any]]) ?? []).compactMap { t in
            (t["topic"] as? String).map { ($0, t["deadLetterQueue"] as? Bool ?? false) }
        }) { a, _ in a }
        XCTAssertEqual(dlqFlags["services.dlq"], true, "\(topics)")
        XCTAssertEqual(dlqFlags["payment-service"], false, "\(topics)")

        let depth = Int(try node.client([url, "count", "services.dlq"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        XCTAssertGreaterThan(depth, 0, "poison at 3% in 20 s dead-letters something")
        let letters = try json(["dlq", "list", "--broker", url, "--max", "500"], node: node, sandbox: sandbox) { ($0 as? [Any])?.count == depth }
        let rows = try XCTUnwrap(letters as? [[String: Any]])
        XCTAssertEqual(rows.count, depth)
        for row in rows {
            XCTAssertEqual(row["convention"] as? String, "rabbitMQ")
            XCTAssertEqual(row["exceptionClass"] as? String, "rejected")
            XCTAssertTrue(["payment-service", "inventory-service"].contains(row["originalTopic"] as? String ?? ""), "\(row)")
            XCTAssertEqual((row["correlationID"] as? String)?.hasPrefix("ord-"), true, "\(row)")
        }

        // pika drains the DLQ: each letter was dead-lettered once by RabbitMQ, from the queue of the service that gave up on it.
        let lines = try node.client([url, "deaths", "services.dlq"]).split(separator: "\n")
        XCTAssertEqual(lines.count, depth)
        let expected = ["OrderPlaced": ("payment-service", "orders"), "PaymentAuthorized": ("inventory-service", "payments")]
        for line in lines {
            let letter = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let deaths = try XCTUnwrap(letter["deaths"] as? [[String: Any]])
            let type = letter["type"] as? String ?? ""
            XCTAssertEqual(deaths.count, 1, "\(letter)")
            XCTAssertEqual(deaths.first?["reason"] as? String, "rejected", "\(letter)")
            XCTAssertEqual(deaths.first?["count"] as? Int, 1, "\(letter)")
            XCTAssertEqual(deaths.first?["queue"] as? String, expected[type]?.0, "\(letter)")
            XCTAssertEqual(deaths.first?["exchange"] as? String, expected[type]?.1, "\(letter)")
            XCTAssertEqual(deaths.first?["routing-keys"] as? [String], [type], "\(letter)")
            XCTAssertEqual(letter["eventType"] as? String, type, "the event's headers are kept")
            XCTAssertNotNil(letter["timestamp"] as? Int, "published with the timestamp property")
        }
    }

    func testTheDemoStopsWithAClearErrorWhenTheBrokerGoesAway() throws {
        let (node, url) = try vhost()
        let sandbox = try Sandbox()
        let demo = try start(["demo", "--broker", url, "--management", node.managementURL, "--headless", "--otlp", "off"],
                             sandbox: sandbox)
        for _ in 0..<100 {  // the first progress line comes after 5 s
            if (try? String(contentsOfFile: sandbox.path("demo.out"), encoding: .utf8))?.contains("orders ") == true { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertEqual(node.restart(downSeconds: 2), 0, "the node comes back for the other tests")
        XCTAssertTrue(ended(demo, within: 60), "a broker going away ends the demo, it does not hang")
        XCTAssertNotEqual(demo.terminationStatus, 0)
        let err = try String(contentsOfFile: sandbox.path("demo.err"), encoding: .utf8)
        XCTAssertTrue(err.contains("broker unavailable"), err)
        XCTAssertFalse(err.contains("guest:guest"), err)
    }

    func testTheDashboardOnTheDemoShowsTheServiceQueuesTheirConsumersAndTheLetters() throws {
        let (node, url) = try vhost()
        let sandbox = try Sandbox()
        let tmux = try TmuxSession(width: 120, height: 30,
                                   command: "\(try evtopBinary()) demo --broker '\(url)' --management \(node.managementURL) --poison-rate 0.05 --otlp off",
                                   env: sandbox.environment)
        defer { tmux.sendKeys("q") }
        tmux.waitFor("the queues") { $0.contains("services.dlq") && $0.contains("shipping-service") }
        XCTAssertFalse(tmux.capture().contains("guest:guest"), tmux.capture())
        tmux.sendKeys("2")
        tmux.waitFor("the groups with their consumers") { screen in
            screen.contains("payment-service") && screen.contains("shipping-service")
        }
        tmux.sendKeys("4")
        tmux.waitFor("a rejected letter") { $0.contains("rejected") }
        XCTAssertFalse(tmux.capture().contains("demo simulator stopped"), tmux.capture())
    }
}
