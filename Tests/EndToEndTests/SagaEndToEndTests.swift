import Foundation
import XCTest

/// Sagas: follow a demo order in a real terminal as its steps arrive; `evtop saga` from the command line.
final class SagaEndToEndTests: XCTestCase {
    /// Order ids of the demo (seed 42) in the order they are placed, from a short run into a scratch store.
    func demoOrderIDs(_ binary: String, _ box: Sandbox) throws -> [String] {
        let scratch = box.path("scratch.db")
        let demo = try runProcess(binary, ["demo", "--headless", "--store", scratch, "--rate", "30", "--duration", "3"], env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let list = try runProcess(binary, ["saga", "--broker", "sqlite:" + scratch, "--json", "--limit", "500"], env: box.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let sagas = try XCTUnwrap(json["sagas"] as? [[String: Any]])
        XCTAssertEqual(json["source"] as? String, "index")
        return sagas.sorted { ($0["started"] as? String ?? "") < ($1["started"] as? String ?? "") }.compactMap { $0["correlationID"] as? String }
    }

    func testFollowADemoOrderAsItsStepsArrive() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let ids = try demoOrderIDs(binary, box)
        // An order the live demo places some seconds in: we follow it before it exists.
        let id = try XCTUnwrap(ids.dropFirst(24).first, "the scratch demo placed only \(ids.count) orders")
        let store = box.path("live.db")
        let demo = try startHeadlessDemo(binary, store: store, rate: 4, seconds: 180, env: box.environment)
        defer { demo.stop() }
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: store), Date() < deadline { usleep(100_000) }

        let session = try TmuxSession(width: 100, height: 30, command: "\(binary) --broker sqlite:\(store); echo EXITED:$?", env: box.environment)
        session.waitFor("the dashboard", limit: 45) { $0.contains("TOPIC") && $0.contains("● live") }
        session.send(literal: ":follow \(id)")
        session.sendKeys("Enter")
        session.waitFor("the followed timeline") { $0.contains(id) && $0.contains("● following") }
        // Its first event arrives and then more: the history's event count grows while we watch.
        func events(_ screen: String) -> Int? {
            guard let line = screen.split(separator: "\n").first(where: { $0.contains(" events · ") }),
                  let range = line.range(of: #"\d+ events"#, options: .regularExpression) else { return nil }
            return Int(line[range].split(separator: " ")[0])
        }
        guard let first = session.waitFor("the order to be placed", limit: 60, { ($0.contains("OrderPlaced")) && events($0) != nil }),
              let seen = events(first) else { return }
        // Shipping lags behind on purpose now and then (the demo slows it down for 30 s every 2 minutes).
        session.waitFor("more steps to arrive (had \(seen) events)", limit: 100) { screen in
            (events(screen) ?? 0) > seen || screen.contains("COMPLETED") || screen.contains("COMPENSATED")
        }
        let later = session.capture()
        XCTAssertTrue(later.contains("OrderSaga"), later)
        XCTAssertTrue(later.contains("order-service") && later.contains("payment-service"), later)
        // The detail pane shows the selected (newest) item: an event's headers or a span's attributes.
        XCTAssertTrue(later.contains("correlation-id: \(id)") || later.contains("Headers") || later.contains("Attributes"), later)
        // Back to the sagas list, where the order is a row; then quit cleanly.
        session.sendKeys("Escape")
        session.waitFor("back on the topics view") { $0.contains("TOPIC") && !$0.contains("● following") }
        session.send(literal: "3")
        session.waitFor("the sagas list") { $0.contains("CORRELATION") && $0.contains("STATE") && $0.contains("ord-") }
        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }
    }

    func testSagaCommandTextJSONAndReadOnly() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("cli.db")
        let demo = try runProcess(binary, ["demo", "--headless", "--store", store, "--rate", "40", "--duration", "4"], env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let list = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--state", "compensated", "--json"], env: box.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let sagas = try XCTUnwrap(json["sagas"] as? [[String: Any]])
        let id = try XCTUnwrap(sagas.first?["correlationID"] as? String, "no compensated order in 4 s of demo: \(list.stdout)")

        let text = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, id], env: box.environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("\(id) · OrderSaga · COMPENSATED"), text.stdout)
        XCTAssertTrue(text.stdout.contains("OrderCancelled") && text.stdout.contains("order-service"), text.stdout)

        let detail = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, id, "--json"], env: box.environment)
        let timeline = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(detail.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(timeline["state"] as? String, "compensated")
        let items = try XCTUnwrap(timeline["items"] as? [[String: Any]])
        // Events and the demo's spans on one axis: the first and last events bracket the saga.
        let events = items.filter { $0["kind"] as? String == "event" }
        XCTAssertEqual(events.first?["label"] as? String, "OrderPlaced")
        XCTAssertEqual(events.last?["label"] as? String, "OrderCancelled")
        XCTAssertTrue(items.contains { $0["kind"] as? String == "span" }, "the demo's spans join the timeline")

        // Read-only: no index is written; a bounded scan finds the same saga and says so.
        let ro = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--read-only", id, "--json"], env: box.environment)
        XCTAssertEqual(ro.status, 0, ro.stderr)
        let roTimeline = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ro.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(roTimeline["state"] as? String, "compensated")
        XCTAssertTrue((roTimeline["source"] as? String ?? "").contains("read-only"), ro.stdout)

        let missing = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "ord-nope"], env: box.environment)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no records or spans with correlation ID ord-nope"), missing.stderr)
        XCTAssertEqual(missing.stdout, "", "a missing saga prints no (RUNNING) timeline, only the error")
        let missingJSON = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "ord-nope", "--json"], env: box.environment)
        XCTAssertEqual(missingJSON.status, 1)
        XCTAssertEqual(missingJSON.stdout, "", "no JSON with \"state\": \"running\" for a saga that does not exist")
        let one = try runProcess(binary, ["saga", "--broker", "sqlite:" + store, "--limit", "1"], env: box.environment)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertFalse(one.stderr.contains("(index)"), "no stray note when the list comes from the index: \(one.stderr)")

        let screen = try runProcess(binary, ["snapshot", "--broker", "sqlite:" + store, "--view", "saga:" + id, "--width", "80", "--height", "24", "--interval", "0"],
                                    env: box.environment)
        XCTAssertEqual(screen.status, 0, screen.stderr)
        XCTAssertTrue(screen.stdout.contains("COMPENSATED") && screen.stdout.contains("events · "), screen.stdout)
    }

    func testConfiguredCorrelationRulesAndSagaDefinitions() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("cfg.db")
        let demo = try runProcess(binary, ["demo", "--headless", "--store", store, "--rate", "40", "--duration", "3"], env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        // A definition of the same flow under another name, from a file the context names.
        let definitions = """
            sagas:
              - name: CheckoutFlow
                timeout: 2m
                steps:
                  - { name: order, service: orders-svc, topic: orders, completedBy: [OrderPlaced], compensatedBy: [OrderCancelled] }
                  - { name: pay, service: payments-svc, topic: payments, completedBy: [PaymentAuthorized], failedBy: [PaymentDeclined] }
                terminal: { completed: [OrderShipped], compensated: [OrderCancelled] }
            """
        try definitions.write(toFile: box.path("checkout.yaml"), atomically: true, encoding: .utf8)
        // Headers that no record has: only the JSON pointer finds the order id.
        let config = """
            contexts:
              demo:
                broker: sqlite:\(store)
                correlation:
                  headers: [x-no-such-header]
                  pointers: [/orderId]
                sagas: [checkout.yaml]
            """
        try config.write(toFile: box.path("config.yaml"), atomically: true, encoding: .utf8)
        let list = try runProcess(binary, ["saga", "--config", box.path("config.yaml"), "--json", "--limit", "50"], env: box.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let sagas = try XCTUnwrap(json["sagas"] as? [[String: Any]])
        XCTAssertFalse(sagas.isEmpty, list.stdout)
        // Sagas that got no further than ordering and paying fit the configured flow best (the built-in OrderSaga
        // knows more of the longer ones).
        // (Which sagas are newest depends on how far the demo got: look at fifty, and accept one that
        // only got as far as ordering.)
        XCTAssertTrue(sagas.contains { saga in
            guard saga["sagaType"] as? String == "CheckoutFlow", let services = saga["services"] as? [String] else { return false }
            // The configured services lead the row; the demo's spans add the services that emitted them, as
            // on the saga's timeline.
            let configured = services.filter { $0.hasSuffix("-svc") }
            return !configured.isEmpty && Set(configured).isSubset(of: ["orders-svc", "payments-svc"]) && services.starts(with: configured)
        }, list.stdout)
        XCTAssertTrue(sagas.allSatisfy { ($0["correlationID"] as? String ?? "").hasPrefix("ord-") }, list.stdout)

        // A broken definition file is refused with its path and line.
        try "sagas:\n  - name: Broken\n    steps:\n      - { name: a, completedBy: [A] }\n    colour: blue\n"
            .write(toFile: box.path("checkout.yaml"), atomically: true, encoding: .utf8)
        let broken = try runProcess(binary, ["saga", "--config", box.path("config.yaml")], env: box.environment)
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.stderr.contains("checkout.yaml:5: unknown key 'colour'"), broken.stderr)
    }
}
