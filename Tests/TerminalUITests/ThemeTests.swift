import XCTest
@testable import TerminalUI

final class ThemeTests: XCTestCase {
    static let themesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("themes")

    func testEveryShippedThemeLoadsWithEveryRole() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.themesDirectory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertTrue(Set(["default.yaml", "light.yaml", "high-contrast.yaml", "monochrome.yaml"]).isSubset(of: Set(files)))
        for file in files {
            let text = try String(contentsOf: Self.themesDirectory.appendingPathComponent(file), encoding: .utf8)
            let name = String(file.dropLast(".yaml".count))
            do {
                let theme = try ThemeLoader.parse(yaml: text, name: name)
                XCTAssertEqual(theme.name, name)
                XCTAssertEqual(Set(theme.styles.keys), Set(Role.allCases), file)
                XCTAssertNotEqual(theme.style(.tableSelected), theme.style(.tableRow), "\(file): selection invisible")
            } catch {
                XCTFail("\(file): \(error)")
            }
        }
    }

    func testMonochromeHasNoColours() throws {
        let text = try String(contentsOf: Self.themesDirectory.appendingPathComponent("monochrome.yaml"), encoding: .utf8)
        let theme = try ThemeLoader.parse(yaml: text, name: "monochrome")
        for style in theme.styles.values {
            XCTAssertEqual(style.foreground, .default)
            XCTAssertEqual(style.background, .default)
        }
        XCTAssertEqual(theme.style(.tableSelected).attributes, .reverse)
    }

    func testDefaultThemeUsesPaletteAnchors() throws {
        let text = try String(contentsOf: Self.themesDirectory.appendingPathComponent("default.yaml"), encoding: .utf8)
        let theme = try ThemeLoader.parse(yaml: text, name: "default")
        XCTAssertEqual(theme.style(.tableHeader).attributes, [.bold, .underline])
        XCTAssertEqual(theme.style(.tableSelected).background, theme.style(.borderTitle).foreground)
        XCTAssertTrue(theme.style(.lagStop).attributes.contains(.reverse))
    }

    /// A complete theme text with `extra` lines appended under `roles:` and `skip` roles left out.
    func themeText(replacing role: Role? = nil, with line: String? = nil, skip: Set<Role> = []) -> String {
        var lines = ["# test", "palette:", "  accent: &accent \"#5fafff\"", "roles:"]
        for r in Role.allCases where !skip.contains(r) {
            if r == role, let line { lines.append(line) } else { lines.append("  \(r.rawValue): { fg: *accent }") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Line number (1-based) where `roles:` entries for `role` sit in `themeText`.
    func lineOf(_ role: Role) -> Int { 5 + (Role.allCases.firstIndex(of: role) ?? 0) }

    func testParsesColourForms() throws {
        var text = themeText(replacing: .text, with: "  text: { fg: 208, bg: bright-blue, attrs: [bold, italic] }")
        text = text.replacingOccurrences(of: "  border: { fg: *accent }", with: "  border: { fg: default, bg: 3, attrs: dim }")
        text = text.replacingOccurrences(of: "  dialog: { fg: *accent }", with: "  dialog: {}")
        let theme = try ThemeLoader.parse(yaml: text, name: "t")
        XCTAssertEqual(theme.style(.text), Style(foreground: .indexed(208), background: .ansi(12), attributes: [.bold, .italic]))
        XCTAssertEqual(theme.style(.border), Style(foreground: .default, background: .ansi(3), attributes: .dim))
        XCTAssertEqual(theme.style(.dialog), .plain)
        XCTAssertEqual(theme.style(.lagOK), Style(foreground: .rgb(0x5f, 0xaf, 0xff)))
        XCTAssertEqual(ThemeLoader.color("#FFaa00"), .rgb(255, 170, 0))
        XCTAssertEqual(ThemeLoader.color("cyan"), .ansi(6))
        XCTAssertNil(ThemeLoader.color("256"))
        XCTAssertNil(ThemeLoader.color("#12345"))
        XCTAssertNil(ThemeLoader.color("-1"))
        XCTAssertNil(ThemeLoader.color("bright-pink"))
    }

    func assertThemeError(_ text: String, line: Int, contains fragment: String,
                          file: StaticString = #filePath, lineNo: UInt = #line) {
        XCTAssertThrowsError(try ThemeLoader.parse(yaml: text, name: "broken"), file: file, line: lineNo) { error in
            guard let e = error as? ThemeError else { return XCTFail("not a ThemeError: \(error)", file: file, line: lineNo) }
            let message = e.description
            XCTAssertEqual(e.line, line, message, file: file, line: lineNo)
            XCTAssertTrue(message.contains("line \(line)"), message, file: file, line: lineNo)
            XCTAssertTrue(message.contains("broken"), message, file: file, line: lineNo)
            XCTAssertTrue(message.contains(fragment), message, file: file, line: lineNo)
        }
    }

    func testUnknownRole() {
        let text = themeText(replacing: .lagWarn, with: "  lag.worn: { fg: *accent }")
        assertThemeError(text, line: lineOf(.lagWarn), contains: "unknown role \"lag.worn\"")
    }

    func testMissingRoles() {
        let text = themeText(skip: [.dlqRow, .sagaSpan])
        assertThemeError(text, line: 4, contains: "missing role(s): saga.span, dlq.row")
    }

    func testBadColour() {
        assertThemeError(themeText(replacing: .tableHeader, with: "  table.header: { fg: \"#zzzzzz\" }"),
                         line: lineOf(.tableHeader), contains: "bad colour \"#zzzzzz\"")
        assertThemeError(themeText(replacing: .border, with: "  border: { bg: 300 }"),
                         line: lineOf(.border), contains: "bad colour \"300\"")
        let badPalette = themeText().replacingOccurrences(of: "\"#5fafff\"", with: "\"#5fafff\"\n  oops: purpleish")
        assertThemeError(badPalette, line: 4, contains: "bad colour \"purpleish\"")
    }

    func testBadAttribute() {
        assertThemeError(themeText(replacing: .sparkline, with: "  sparkline: { attrs: [bold, blink] }"),
                         line: lineOf(.sparkline), contains: "bad attribute \"blink\"")
    }

    func testUnknownField() {
        assertThemeError(themeText(replacing: .sparkline, with: "  sparkline: { colour: red }"),
                         line: lineOf(.sparkline), contains: "unknown field \"colour\"")
    }

    func testYAMLSyntaxError() {
        assertThemeError(themeText(replacing: .filter, with: "  filter: { fg: *accent"),
                         line: lineOf(.filter) + 1, contains: "YAML syntax error")
        assertThemeError(themeText(replacing: .filter, with: "  filter: { fg: *nothere }"),
                         line: lineOf(.filter), contains: "YAML syntax error")
    }

    func testNotATheme() {
        assertThemeError("- just\n- a list\n", line: 1, contains: "roles")
    }
}

/// NO_COLOR keeps the cursor row, the header and badges visible with attributes (issue 14 item 12).
final class ThemeWithoutColorTests: XCTestCase {
    func testBackgroundsBecomeReverseVideoAndColoursGo() throws {
        for theme in [Theme.fallback, try ThemeLoader.parse(yaml: String(contentsOfFile: #filePath.components(separatedBy: "/Tests/")[0] + "/themes/default.yaml", encoding: .utf8), name: "default")] {
            let plain = theme.withoutColor
            for role in Role.allCases {
                let before = theme.style(role), after = plain.style(role)
                XCTAssertEqual(after.foreground, .default, "\(role.rawValue) keeps no colour")
                XCTAssertEqual(after.background, .default, "\(role.rawValue) keeps no colour")
                XCTAssertTrue(after.attributes.isSuperset(of: before.attributes), "\(role.rawValue) keeps its attributes")
                if before.background != .default {
                    XCTAssertTrue(after.attributes.contains(.reverse), "\(role.rawValue) stays visible in reverse video")
                }
            }
            XCTAssertTrue(plain.style(.tableSelected).attributes.contains(.reverse), "the cursor row is visible without colour")
        }
    }
}
