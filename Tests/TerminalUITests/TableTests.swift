import XCTest
@testable import TerminalUI

final class TableTests: XCTestCase {
    let columns = [
        TableColumn("TOPIC", width: .flexible(min: 6, weight: 1), priority: 3),
        TableColumn("TOTAL", width: .fixed(7), alignment: .right, priority: 2),
        TableColumn("RATE", width: .fixed(5), alignment: .right, priority: 1),
    ]
    let data: [[TableCell]] = [
        ["orders", "48,213", "212"],
        ["a-very-long-topic-name", "1", "0.1"],
    ]

    func render(_ table: Table, width: Int, height: Int, theme: Theme = .fallback) -> ScreenBuffer {
        var b = ScreenBuffer(width: width, height: height)
        table.render(in: b.area, into: &b, theme: theme)
        return b
    }

    func testGoldenSmallTable() {
        let table = Table(columns: columns, rowCount: data.count) { TableRowContent(cells: self.data[$0]) }
        XCTAssertEqual(render(table, width: 24, height: 4).lines, [
            "TOPIC        TOTAL  RATE",
            "orders      48,213   212",
            "a-very-lo…       1   0.1",
            "                        ",
        ])
    }

    func testGoldenWithSortMarksAndSelection() {
        var table = Table(columns: columns, rowCount: data.count) {
            TableRowContent(cells: self.data[$0], isMarked: $0 == 1)
        }
        table.sortColumn = 1
        table.sortDescending = true
        table.showMarkColumn = true
        table.selectedRow = 0
        let b = render(table, width: 26, height: 3, theme: roleTheme)
        XCTAssertEqual(b.lines, [
            "  TOPIC       TOTAL▼  RATE",
            "  orders      48,213   212",
            "● a-very-lo…       1   0.1",
        ])
        XCTAssertEqual(role(of: b[19, 0]), .tableSort)
        XCTAssertEqual(role(of: b[2, 0]), .tableHeader)
        XCTAssertEqual(role(of: b[0, 2]), .tableMarked)
        XCTAssertEqual(role(of: b[2, 2]), .tableRow)
        // The selection covers the full width, gaps included.
        for x in 0..<26 { XCTAssertEqual(b[x, 1].style.background, roleTheme.style(.tableSelected).background) }
        XCTAssertEqual(b[5, 1].style, roleTheme.style(.tableRow).patched(with: roleTheme.style(.tableSelected)))
        XCTAssertEqual(b[5, 2].style.background, .default)
    }

    func testAscendingSortOnLeftColumn() {
        var table = Table(columns: columns, rowCount: 0) { _ in TableRowContent(cells: []) }
        table.sortColumn = 0
        table.sortDescending = false
        XCTAssertEqual(render(table, width: 24, height: 1).lines, ["TOPIC▲       TOTAL  RATE"])
    }

    func testRoleOverrides() {
        let table = Table(columns: columns, rowCount: 1) { _ in
            TableRowContent(cells: ["orders", TableCell("48,213", role: .lagStall), "1"], role: .dlqRow)
        }
        let b = render(table, width: 24, height: 2, theme: roleTheme)
        XCTAssertEqual(role(of: b[0, 1]), .dlqRow)
        XCTAssertEqual(role(of: b[13, 1]), .lagStall)
        XCTAssertEqual(role(of: b[22, 1]), .dlqRow)
        XCTAssertEqual(role(of: b[10, 1]), .dlqRow) // gap between columns
    }

    func testCenterAlignment() {
        let cols = [TableColumn("MID", width: .fixed(7), alignment: .center)]
        let table = Table(columns: cols, rowCount: 1) { _ in TableRowContent(cells: ["ab"]) }
        XCTAssertEqual(render(table, width: 7, height: 2).lines, ["  MID  ", "  ab   "])
    }

    func testVirtualisationCallsRowOnlyForVisibleRows() {
        final class Counter: @unchecked Sendable { var calls: [Int] = [] }
        let counter = Counter()
        var table = Table(columns: columns, rowCount: 100_000) { i in
            counter.calls.append(i)
            return TableRowContent(cells: [TableCell("t\(i)"), "1", "2"])
        }
        table.scrollOffset = 50_000
        table.selectedRow = 50_003
        let b = render(table, width: 30, height: 11)
        XCTAssertEqual(counter.calls, Array(50_000..<50_010))
        XCTAssertTrue(b.lines[1].hasPrefix("t50000"))
        XCTAssertTrue(b.lines[10].hasPrefix("t50009"))

        // Past the end the window is clamped to the last rows.
        counter.calls = []
        table.scrollOffset = 200_000
        _ = render(table, width: 30, height: 11)
        XCTAssertEqual(counter.calls, Array(99_990..<100_000))
    }

    func testColumnWidthsShareByWeight() {
        let cols = [
            TableColumn("A", width: .flexible(min: 2, weight: 1)),
            TableColumn("B", width: .fixed(5)),
            TableColumn("C", width: .flexible(min: 2, weight: 3)),
        ]
        // required = 2 + 5 + 2 + 2 gaps = 11; spare 9 → 2 and 6, remainder 1 to the first flexible.
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 20), [5, 5, 8])
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 11), [2, 5, 2])
        XCTAssertEqual(Table.columnWidths([], totalWidth: 11), [])
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 0), [0, 0, 0])
    }

    func testColumnsHiddenByPriorityWhenNarrow() {
        let cols = [
            TableColumn("GROUP", width: .flexible(min: 8, weight: 1), priority: 10),
            TableColumn("STATUS", width: .fixed(6), priority: 9),
            TableColumn("MEMBERS", width: .fixed(7), alignment: .right, priority: 1),
            TableColumn("LAG", width: .fixed(6), alignment: .right, priority: 8),
            TableColumn("TREND", width: .fixed(8), priority: 2),
        ]
        // All: 8+6+7+6+8 + 4 gaps = 39.
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 39), [8, 6, 7, 6, 8])
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 38), [15, 6, 0, 6, 8])  // MEMBERS (1) goes first
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 30), [16, 6, 0, 6, 0])  // then TREND (2)
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 22), [8, 6, 0, 6, 0])
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 21), [14, 6, 0, 0, 0])  // then LAG
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 14), [14, 0, 0, 0, 0])
        XCTAssertEqual(Table.columnWidths(cols, totalWidth: 5), [5, 0, 0, 0, 0])    // last one squeezed

        let table = Table(columns: cols, rowCount: 1) { _ in
            TableRowContent(cells: ["shipping-service", "STALL", "1", "4,112", "↑ +21/s"])
        }
        let lines = render(table, width: 30, height: 2).lines
        XCTAssertFalse(lines[0].contains("MEMBERS"))
        XCTAssertFalse(lines[0].contains("TREND"))
        XCTAssertEqual(lines, [
            "GROUP            STATUS    LAG",
            "shipping-service STALL   4,112",
        ])
        XCTAssertEqual(render(table, width: 29, height: 2).lines[1], "shipping-servi… STALL   4,112")
    }

    func testScrollOffset() {
        XCTAssertEqual(Table.scrollOffset(selected: 0, current: 0, visibleRows: 5, rowCount: 100), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 4, current: 0, visibleRows: 5, rowCount: 100), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 5, current: 0, visibleRows: 5, rowCount: 100), 1)
        XCTAssertEqual(Table.scrollOffset(selected: 50, current: 0, visibleRows: 5, rowCount: 100), 46)
        XCTAssertEqual(Table.scrollOffset(selected: 10, current: 20, visibleRows: 5, rowCount: 100), 10)
        XCTAssertEqual(Table.scrollOffset(selected: 22, current: 20, visibleRows: 5, rowCount: 100), 20)
        XCTAssertEqual(Table.scrollOffset(selected: 99, current: 0, visibleRows: 5, rowCount: 100), 95)
        XCTAssertEqual(Table.scrollOffset(selected: 500, current: 0, visibleRows: 5, rowCount: 100), 95)
        XCTAssertEqual(Table.scrollOffset(selected: -3, current: 7, visibleRows: 5, rowCount: 100), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 2, current: 90, visibleRows: 5, rowCount: 3), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 0, current: 3, visibleRows: 0, rowCount: 10), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 0, current: 3, visibleRows: 5, rowCount: 0), 0)
    }

    func testUntrustedCellTextIsEscaped() {
        let table = Table(columns: [TableColumn("X", width: .fixed(8))], rowCount: 1) { _ in
            TableRowContent(cells: ["\u{1B}[2Jboom"])
        }
        let b = render(table, width: 8, height: 2)
        XCTAssertEqual(b.lines[1], "␛[2Jboom")
    }
}
