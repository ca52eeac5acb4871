/// The golden-file form of a screen: its text, then a grid of one-letter role codes (one per column) and
/// the legend of those codes. Text alone misses colour regressions (a STALL drawn as plain text reads the
/// same); the role layer records which theme roles each cell was drawn with.
///
/// ```
///  evtop  sqlite:/var/…/demo.db ● live …        (the text, one line per row)
/// -- roles: one code per column, legend below --
/// bbbbbbbcccccccccccccccccdddddddd…
/// -- legend --
/// a text
/// b header.title
/// ```
///
/// Codes are given in order of first appearance, so they differ between files; comparisons go by role
/// names, never by codes. Record rendered frames (`Screen.render`): a `TestBackend`'s screen is built from
/// diffs, which skip cells whose looks did not change, so its roles can be stale where only a role changed.
public enum GoldenScreen {
    /// The line that ends the text and starts the role grid.
    public static let rolesMarker = "-- roles: one code per column, legend below --"
    /// The line that ends the role grid and starts the legend.
    public static let legendMarker = "-- legend --"
    /// Codes, in the order they are handed out.
    static let codes = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+/<=>?@^_~")

    /// The role name of every cell, row by row (`none` for a cell no theme role drew).
    public static func roleNames(_ buffer: ScreenBuffer) -> [[String]] {
        (0..<buffer.height).map { y in (0..<buffer.width).map { x in buffer[x, y].style.roles.name } }
    }

    /// The golden text of `buffer`: its lines, the role grid and the legend, ending in a newline.
    public static func encode(_ buffer: ScreenBuffer) -> String {
        var codeOf: [String: Character] = [:]
        var legend: [String] = []
        var grid: [String] = []
        for row in roleNames(buffer) {
            var line = ""
            for name in row {
                if codeOf[name] == nil {
                    // More distinct role sets than codes cannot happen with 46 roles in practice; say so if it does.
                    let code = legend.count < codes.count ? codes[legend.count] : "?"
                    codeOf[name] = code
                    legend.append("\(code) \(name)")
                }
                line.append(codeOf[name] ?? "?")
            }
            grid.append(line)
        }
        return (buffer.lines + [rolesMarker] + grid + [legendMarker] + legend).joined(separator: "\n") + "\n"
    }

    /// How `buffer` differs from `golden` (the text of a golden file): empty when it matches.
    /// Text differences name the first differing line; role differences name each run of cells on a row
    /// drawn in another role than recorded (at most `limit` of them).
    public static func differences(_ buffer: ScreenBuffer, golden: String, limit: Int = 8) -> [String] {
        var lines = golden.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() } // the file's final newline
        let rolesAt = lines.firstIndex(of: rolesMarker)
        let expectedText = Array(lines[..<(rolesAt ?? lines.count)]).joinedLines
        let actualText = buffer.lines.joinedLines
        var out: [String] = []
        if expectedText != actualText {
            let e = lines[..<(rolesAt ?? lines.count)].map { $0 }, a = buffer.lines
            let first = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
            out.append("""
                text differs at line \(first + 1):
                expected: \(first < e.count ? e[first] : "<none>")
                actual:   \(first < a.count ? a[first] : "<none>")
                """)
        }
        guard let rolesAt, let legendAt = lines.firstIndex(of: legendMarker), legendAt > rolesAt else {
            out.append("the golden file has no role layer")
            return out
        }
        var nameOf: [Character: String] = [:]
        for entry in lines[(legendAt + 1)...] where entry.count > 2 {
            if let code = entry.first { nameOf[code] = String(entry.dropFirst(2)) }
        }
        let grid = Array(lines[(rolesAt + 1)..<legendAt])
        let actual = roleNames(buffer)
        guard grid.count == actual.count else {
            out.append("role grid has \(grid.count) rows, the screen \(actual.count)")
            return out
        }
        var runs = 0
        for (y, (codesRow, names)) in zip(grid, actual).enumerated() {
            let expected = codesRow.map { nameOf[$0] ?? "unknown code \($0)" }
            var x = 0
            while x < names.count {
                let want = x < expected.count ? expected[x] : "<none>"
                guard want != names[x] else { x += 1; continue }
                var end = x + 1
                while end < names.count, (end < expected.count ? expected[end] : "<none>") == want, names[end] == names[x] { end += 1 }
                runs += 1
                if runs <= limit {
                    let text = (x..<end).map { buffer[$0, y].symbol }.joined()
                    out.append("row \(y + 1), columns \(x + 1)–\(end) “\(text)”: expected \(want), drawn in \(names[x])")
                }
                x = end
            }
            if expected.count > names.count { out.append("row \(y + 1): role grid is wider than the screen") }
        }
        if runs > limit { out.append("… and \(runs - limit) more runs in other roles") }
        return out
    }
}

private extension Array where Element == String {
    var joinedLines: String { joined(separator: "\n") }
}
