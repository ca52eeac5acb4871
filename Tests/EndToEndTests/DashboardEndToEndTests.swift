import Foundation
import XCTest

/// The real binary in a real terminal (tmux): what an operator sees.
final class DashboardEndToEndTests: XCTestCase {
    /// Topic rows with a non-zero 1s or 10s rate: "orders   3   1,234   21   19 …".
    static func hasLiveRates(_ screen: String) -> Bool {
        screen.split(separator: "\n").contains { line in
            guard line.contains("orders ") || line.contains("payments ") else { return false }
            let numbers = line.split(separator: " ").compactMap { Double($0.replacingOccurrences(of: ",", with: "")) }
            return numbers.count >= 4 && numbers[2...].contains { $0 > 0 }
        }
    }

    func testDemoShowsLiveTopicsHelpResizeAndQuitRestoresTerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 100, height: 30,
                                      command: "\(binary) demo --store \(box.path("demo.db")) --rate 40; echo EXITED:$?",
                                      env: box.environment)

        session.waitFor("topic rows with non-zero rates", limit: 45, Self.hasLiveRates)
        let screen = session.capture()
        XCTAssertTrue(screen.contains("● live"), screen)
        XCTAssertTrue(screen.contains("TOPIC"), screen)
        XCTAssertTrue(screen.contains("orders.DLT") || screen.contains("payments.DLT"), screen)

        session.send(literal: "?")
        session.waitFor("help overlay") { $0.contains("Keys") && $0.contains("filter (regex") }
        session.send(literal: "x")
        session.waitFor("help closed") { !$0.contains("filter (regex") }

        // Resize: the layout follows (the status line moves to the new last row, borders to the new width).
        session.resize(width: 80, height: 24)
        session.waitFor("80x24 layout") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count >= 24 && lines[22].hasPrefix("└") && lines[22].hasSuffix("┘") && lines[22].count == 80
        }
        session.resize(width: 120, height: 40)
        session.waitFor("120x40 layout") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.count >= 40 && lines[38].hasPrefix("└") && lines[38].count == 120
        }

        session.send(literal: "q")
        session.waitFor("evtop to exit 0") { $0.contains("EXITED:0") }
        // The terminal is usable again: typed text echoes and commands run.
        session.send(literal: "echo restored-$((40+2))")
        session.sendKeys("Enter")
        session.waitFor("shell echo after exit") { $0.contains("restored-42") }
    }

    func testFilterAndDrillDownInTerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 100, height: 30,
                                      command: "\(binary) demo --store \(box.path("demo.db")); echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("topics", limit: 45) { $0.contains("shipments") }
        session.send(literal: "/ship")
        session.waitFor("filtered to shipments") { s in s.contains("shipments") && !s.contains("payments ") }
        session.sendKeys("Enter")
        session.sendKeys("Enter")
        session.waitFor("partition drill-down") { $0.contains("shipments · 1 partition") && $0.contains("PARTITION") }
        session.sendKeys("Escape")
        session.waitFor("back to topics") { $0.contains("Topics") }
        // Ctrl-C kills evtop by SIGINT after it restored the terminal; bash then drops the rest
        // of the command line, as for any program stopped by Ctrl-C, and the shell works again.
        session.sendKeys("C-c")
        session.waitFor("dashboard gone after ctrl-c") { !$0.contains("● live") }
        session.send(literal: "echo after-ctrl-c-$((2+2))")
        session.sendKeys("Enter")
        session.waitFor("shell usable after ctrl-c") { $0.contains("after-ctrl-c-4") }
    }

    func testSigtermRestoresTerminal() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let store = box.path("sigterm.db")
        let session = try TmuxSession(width: 90, height: 25,
                                      command: "\(binary) demo --store \(store); echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("dashboard up", limit: 45) { $0.contains("● live") }
        try runProcess("/usr/bin/pkill", ["-TERM", "-f", store])
        // Killed by SIGTERM (143) after restoring the terminal: the shell sees the signal.
        session.waitFor("exit 143 after SIGTERM") { $0.contains("EXITED:143") }
        session.send(literal: "echo back-$((1+1))")
        session.sendKeys("Enter")
        session.waitFor("shell usable after SIGTERM") { $0.contains("back-2") }
    }

    func testNoArgumentsOpensDefaultStoreWithHintAndThemesSwitchLive() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 100, height: 30, command: "\(binary); echo EXITED:$?", env: box.environment)
        session.waitFor("empty-store hint") { $0.contains("evtop demo") && $0.contains("● live") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: box.path("data") + "/evtop/evtop.db"))
        session.send(literal: ":theme light")
        session.sendKeys("Enter")
        session.waitFor("theme switched") { $0.contains("theme: light") }
        session.send(literal: ":theme nope")
        session.sendKeys("Enter")
        session.waitFor("unknown theme error") { $0.contains("no theme named 'nope'") }
        session.send(literal: ":q")
        session.sendKeys("Enter")
        session.waitFor("exit") { $0.contains("EXITED:0") }
    }

    func testMissingExplicitStoreIsAnErrorNotANewFile() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let path = box.path("typo.db")
        let r = try runProcess(binary, ["--broker", "sqlite:" + path], env: box.environment)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no evtop store at"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    /// The demo's slow consumer falls behind and its stalling one stops committing: the lag view says so
    /// within a minute, and the drill-down names the partition.
    func testLagViewShowsSlowAndStalledGroupsOnTheDemo() throws {
        let binary = try evtopBinary()
        let box = try Sandbox()
        let session = try TmuxSession(width: 120, height: 30,
                                      command: "\(binary) demo --store \(box.path("lag.db")) --rate 30; echo EXITED:$?",
                                      env: box.environment)
        session.waitFor("dashboard up", limit: 45) { $0.contains("● live") }
        session.send(literal: "2")
        session.waitFor("lag view") { $0.contains("Consumer groups") && $0.contains("shipping-service") }
        func statusOf(_ group: String, in screen: String) -> String? {
            for line in screen.split(separator: "\n") where line.contains(" \(group) ") {
                return ["REWIND", "STALL", "STOP", "WARN", "ERR", "OK"].first { line.contains(" \($0) ") }
            }
            return nil
        }
        // Each within a minute of watching; they need not coincide (the slow one recovers in lulls).
        session.waitFor("shipping-service (slow) not OK", limit: 90) { screen in
            let shipping = statusOf("shipping-service", in: screen)
            return shipping != nil && shipping != "OK"
        }
        session.waitFor("inventory-service (stalling) STALL or STOP", limit: 90) { screen in
            let inventory = statusOf("inventory-service", in: screen)
            return inventory == "STALL" || inventory == "STOP"
        }
        session.send(literal: "/^inventory-service")
        session.sendKeys("Enter")
        session.sendKeys("Enter")
        session.waitFor("drill-down shows the stalled partition") { screen in
            screen.contains("inventory-service ·") && screen.contains("LAST COMMIT")
                && screen.split(separator: "\n").contains { $0.contains("STOP") || $0.contains("STALL") }
        }
        session.send(literal: "t")
        session.waitFor("seconds toggle") { $0.contains("lag in seconds") }
        session.send(literal: "q")
        session.waitFor("exit") { $0.contains("EXITED:0") }
    }
}
