import Foundation
import XCTest

/// Dead letters, browsed in a real terminal and listed from the command line.
final class DLQEndToEndTests: XCTestCase {
    /// The DLQ topic of an overview row with a non-zero letter count ("orders.DLT   12 …"), if any.
    static func dlqWithLetters(_ screen: String) -> String? {
        for line in screen.split(separator: "\n") {
            for topic in ["orders.DLT", "payments.DLT"] where line.contains(topic + " ") {
                let words = line.split(separator: " ").map(String.init)
                guard let i = words.firstIndex(where: { $0.hasSuffix(topic) }), i + 1 < words.count,
                      let count = Int(words[i + 1].replacingOccurrences(of: ",", with: "")), count > 0 else { continue }
                return topic
            }
        }
        return nil
    }

    func testBrowseDeadLettersInTerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 100, height: 30,
                                      command: "\(binary) demo --store \(box.path("dlq.db")) --rate 40 --poison-rate 0.05; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("topics", limit: 45) { $0.contains("TOPIC") && $0.contains("● live") }
        session.send(literal: "4")
        guard let overview = session.waitFor("a DLQ with letters", limit: 60, { Self.dlqWithLetters($0) != nil && $0.contains("Dead-letter queues") }),
              let topic = Self.dlqWithLetters(overview) else { return }
        // Narrow the overview to that DLQ so that enter opens it whatever the row order.
        session.send(literal: "/^" + topic.replacingOccurrences(of: ".", with: "\\.") + "\\b")
        session.sendKeys("Enter")
        session.waitFor("filter applied, prompt closed") { $0.contains(topic) && !$0.contains("▏") }
        session.sendKeys("Enter")
        session.waitFor("letter rows with an exception class", limit: 30) { screen in
            screen.contains("\(topic) · ") && screen.contains("FAILED AT")
                && screen.split(separator: "\n").contains { $0.contains("Exception") && $0.contains("pending") }
        }
        session.sendKeys("Enter")
        session.waitFor("letter detail with Spring headers") { $0.contains("kafka_dlt-original-topic") && $0.contains("Headers") }
        session.sendKeys("PageDown")
        session.sendKeys("Escape")
        session.waitFor("back to the letter list") { $0.contains("FAILED AT") }
        session.sendKeys("Escape")
        session.sendKeys("Escape")
        session.waitFor("back to the overview") { $0.contains("Dead-letter queues") }
        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }
    }

    func testDLQListJSONAndTable() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("list.db")
        let demo = try runProcess(binary, ["demo", "--headless", "--store", store, "--rate", "80", "--duration", "6", "--poison-rate", "0.05"],
                                  env: box.environment, limit: 60)
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let json = try runProcess(binary, ["dlq", "list", "--broker", "sqlite:" + store, "--json", "--max", "3"], env: box.environment)
        XCTAssertEqual(json.status, 0, json.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertFalse(rows.isEmpty, json.stdout)
        XCTAssertTrue(rows.allSatisfy { ($0["topic"] as? String)?.hasSuffix(".DLT") == true && $0["originalTopic"] is String })
        XCTAssertLessThanOrEqual(rows.filter { ($0["topic"] as? String) == "orders.DLT" }.count, 3)
        let text = try runProcess(binary, ["dlq", "list", "--broker", "sqlite:" + store, "--dlq-topic", "orders.DLT"], env: box.environment)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.hasPrefix("TOPIC"), text.stdout)
        XCTAssertFalse(text.stdout.unicodeScalars.contains { $0.value == 0x1b }, "no raw escapes")
        let missing = try runProcess(binary, ["dlq", "list", "--broker", "sqlite:" + store, "--dlq-topic", "nope"], env: box.environment)
        XCTAssertNotEqual(missing.status, 0)
    }
}
