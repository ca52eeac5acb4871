import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// The role layer of golden files catches colour regressions that the text cannot.
final class GoldenRoleTests: XCTestCase {
    private func lagScreen() -> ScreenBuffer {
        var state = Fixtures.liveState(width: 80, height: 24)
        Reducer.reduce(&state, .key(.char("2")))
        return Screen.render(state, theme: .fallback)
    }

    private func recorded(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
            .appendingPathComponent("Golden").appendingPathComponent(name + ".txt")
        return try String(contentsOf: url, encoding: .utf8)
    }

    func testStallIsDrawnInItsAlertRole() throws {
        let buffer = lagScreen()
        let y = try XCTUnwrap(buffer.lines.firstIndex { $0.contains("inventory-service STALL") })
        let x = try XCTUnwrap(buffer.lines[y].range(of: "STALL").map { buffer.lines[y].distance(from: buffer.lines[y].startIndex, to: $0.lowerBound) })
        for column in x..<(x + 5) { XCTAssertEqual(buffer[column, y].style.roles.members, [.lagStall]) }
        XCTAssertEqual(GoldenScreen.differences(buffer, golden: try recorded("lag-80x24")), [])
    }

    func testAStallRepaintedInAnotherRoleFailsTheGolden() throws {
        var buffer = lagScreen()
        let y = try XCTUnwrap(buffer.lines.firstIndex { $0.contains("inventory-service STALL") })
        let line = buffer.lines[y]
        let x = try XCTUnwrap(line.range(of: "STALL").map { line.distance(from: line.startIndex, to: $0.lowerBound) })
        // The fallback theme draws plain text and a warning differently, but the text stays the same:
        // only the role layer can see this.
        buffer[x, y].style = Theme.fallback.style(.lagWarn)
        let differences = GoldenScreen.differences(buffer, golden: try recorded("lag-80x24"))
        XCTAssertEqual(differences, ["row \(y + 1), columns \(x + 1)–\(x + 1) “S”: expected lag.stall, drawn in lag.warn"])
    }
}
