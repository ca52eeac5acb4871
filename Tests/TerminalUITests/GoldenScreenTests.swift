import XCTest
@testable import TerminalUI

final class GoldenScreenTests: XCTestCase {
    func testThemeStampsItsRoleAndPatchingKeepsBoth() {
        let stall = Theme.fallback.style(.lagStall)
        XCTAssertEqual(stall.roles.members, [.lagStall])
        let selected = stall.patched(with: Theme.fallback.style(.tableSelected))
        XCTAssertEqual(selected.roles.name, "table.selected+lag.stall") // in Role.allCases order
        XCTAssertEqual(Style.plain.roles.name, "none")
    }

    func testRolesAreProvenanceNotLooks() {
        // Two roles of the same look compare equal: the terminal diff must not redraw a cell for its role.
        let a = Style(foreground: .ansi(1), roles: RoleSet(.lagStall))
        let b = Style(foreground: .ansi(1), roles: RoleSet(.text))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertNotEqual(a.roles, b.roles)
    }

    func testEveryRoleHasItsOwnBit() {
        XCTAssertLessThanOrEqual(Role.allCases.count, 64, "RoleSet holds 64 roles; widen it")
        var seen = RoleSet()
        for role in Role.allCases {
            let bit = RoleSet(role)
            XCTAssertNotEqual(bit, [], "\(role) has no bit")
            XCTAssertTrue(seen.isDisjoint(with: bit), "\(role) shares a bit")
            seen.formUnion(bit)
            XCTAssertEqual(bit.members, [role])
        }
    }

    private func sample() -> ScreenBuffer {
        var buffer = ScreenBuffer(width: 12, height: 2)
        buffer.fill(buffer.area, with: Cell(" ", style: Theme.fallback.style(.text)))
        buffer.put("STALL", x: 0, y: 0, style: Theme.fallback.style(.lagStall))
        buffer.put("ok 表", x: 0, y: 1, style: Theme.fallback.style(.lagOK))
        return buffer
    }

    func testEncodedGoldenHasTextGridAndLegend() {
        let golden = GoldenScreen.encode(sample())
        let expected = ["STALL" + String(repeating: " ", count: 7), "ok 表" + String(repeating: " ", count: 7),
                        GoldenScreen.rolesMarker, "aaaaabbbbbbb", "cccccbbbbbbb",
                        GoldenScreen.legendMarker, "a lag.stall", "b text", "c lag.ok"]
        XCTAssertEqual(golden, expected.joined(separator: "\n") + "\n")
        XCTAssertEqual(GoldenScreen.differences(sample(), golden: golden), [])
    }

    func testARepaintedCellFailsTheComparison() {
        let golden = GoldenScreen.encode(sample())
        var changed = sample()
        // Same text, same look in a theme where both are plain: only the role layer can tell.
        for x in 1...2 { changed[x, 0].style = Theme.fallback.style(.text) }
        let differences = GoldenScreen.differences(changed, golden: golden)
        XCTAssertEqual(differences, ["row 1, columns 2–3 “TA”: expected lag.stall, drawn in text"])
    }

    func testATextChangeAndAMissingRoleLayerAreReported() {
        var changed = sample()
        changed.put("STOP!", x: 0, y: 0, style: Theme.fallback.style(.lagStall))
        let differences = GoldenScreen.differences(changed, golden: GoldenScreen.encode(sample()))
        XCTAssertEqual(differences.count, 1)
        XCTAssertTrue(differences[0].contains("text differs at line 1"), differences[0])
        let textOnly = sample().lines.joined(separator: "\n") + "\n"
        XCTAssertEqual(GoldenScreen.differences(sample(), golden: textOnly), ["the golden file has no role layer"])
    }

    func testSortMarkerGoesOnTheNamedColumn() {
        var table = Table(columns: [TableColumn("A", width: .fixed(3)), TableColumn("B", width: .fixed(3))], rowCount: 0) { _ in
            TableRowContent(cells: [])
        }
        table.sort(byColumnTitled: "B", descending: false)
        XCTAssertEqual(table.sortColumn, 1)
        XCTAssertFalse(table.sortDescending)
        table.sort(byColumnTitled: "gone", descending: true)
        XCTAssertNil(table.sortColumn)
    }
}
