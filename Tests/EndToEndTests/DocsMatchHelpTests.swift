import Foundation
import XCTest

/// docs/usage.md against the real binary's `--help`: every command, every flag, every positional
/// argument, every default and every usage line the help prints must be in the command's section of
/// the document, and the document must list no command or flag the help lacks. Commands are found by
/// walking the help's SUBCOMMANDS sections from `evtop --help` down, so a new command cannot be
/// forgotten.
///
/// The document's shape (what a maintainer edits):
/// - one `## evtop …` section per command, named by its full path (`## evtop dlq list`), down to the
///   next `##` heading; `## evtop` is the root, and the flags in its table (`--help`, `--version`)
///   are the ones every command takes;
/// - in each section, the help's usage line verbatim, and a table whose first cell names the flags
///   (`` `-b`, `--broker <url>` ``) and whose other cells give the default as the help prints it.
final class DocsMatchHelpTests: XCTestCase {
    /// The repository root, from this file's place in it (Tests/EndToEndTests/).
    static let repositoryRoot = URL(fileURLWithPath: "\(#filePath)")
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testUsageDocMatchesTheHelpOfEveryCommand() throws {
        let helps = try Self.helpOfEveryCommand(binary: try evtopBinary())
        // A walk that found only the root would make every other check vacuous.
        XCTAssertGreaterThan(helps.count, 5, "the walk found only \(helps.keys.sorted())")
        XCTAssertTrue(helps.values.contains { !$0.options.isEmpty && $0.usage.hasPrefix("evtop ") })

        let doc = UsageDoc(markdown: try Self.usageMarkdown())
        let problems = DocsCheck.problems(helps: helps, doc: doc)
        XCTAssertEqual(problems, [], "docs/usage.md disagrees with --help:\n" + problems.joined(separator: "\n"))
    }

    /// The check itself fails when the document drifts: a flag taken out of a section, a flag the help
    /// does not have, a changed default and a dropped command are each reported. The flag and the
    /// command are chosen from the help, so the test follows the commands as they change.
    func testTheCheckReportsEachKindOfDrift() throws {
        let helps = try Self.helpOfEveryCommand(binary: try evtopBinary())
        let lines = try Self.usageMarkdown().components(separatedBy: "\n")
        func problems(_ edited: [String]) -> [String] {
            DocsCheck.problems(helps: helps, doc: UsageDoc(markdown: edited.joined(separator: "\n")))
        }
        XCTAssertEqual(problems(lines), [], "the drifts below are only reported alone when the document matches to start with")

        // A command with an option that has a default, documented in its own section's table.
        let root = UsageDoc(markdown: lines.joined(separator: "\n")).sections[""]?.flags ?? []
        let candidates = helps.keys.sorted().filter { !$0.isEmpty }.compactMap { path -> (String, String, String)? in
            guard let option = helps[path]?.options.first(where: { $0.defaultValue != nil && !root.contains($0.flags.last ?? "") }),
                  let flag = option.flags.last, let value = option.defaultValue else { return nil }
            return (path, flag, value)
        }
        let (path, flag, value) = try XCTUnwrap(candidates.first, "no command has an option with a default")
        let heading = "## evtop " + path
        let sectionStart = try XCTUnwrap(lines.firstIndex(of: heading), "no '\(heading)' line")
        let sectionEnd = lines[(sectionStart + 1)...].firstIndex { $0.hasPrefix("## ") } ?? lines.endIndex
        let row = try XCTUnwrap(lines[sectionStart..<sectionEnd].firstIndex { $0.hasPrefix("|") && HelpText.flags(in: UsageDoc.cells($0).first ?? "").contains(flag) },
                                "no row for \(flag) under '\(heading)'")

        var withoutFlag = lines
        withoutFlag.remove(at: row)
        let spellings = helps[path]?.options.first { $0.flags.contains(flag) }?.flags ?? [flag]
        XCTAssertEqual(problems(withoutFlag), spellings.map { "evtop \(path): \($0) is in --help but not in docs/usage.md" })

        var withExtra = lines
        withExtra.insert("| `--no-such-flag` | | made up |", at: row)
        XCTAssertEqual(problems(withExtra), ["evtop \(path): docs/usage.md lists --no-such-flag, which --help does not have"])

        var otherDefault = lines
        otherDefault[row] = otherDefault[row].replacingOccurrences(of: "`\(value)`", with: "`\(value)0`")
        XCTAssertEqual(problems(otherDefault), ["evtop \(path): \(flag) defaults to \(value) in --help; its row in docs/usage.md does not say so"])

        var withoutCommand = lines
        withoutCommand.removeSubrange(sectionStart..<sectionEnd)
        XCTAssertEqual(problems(withoutCommand), ["evtop \(path): in --help but docs/usage.md has no '\(heading)' section"])
    }

    // MARK: - Inputs

    static func usageMarkdown() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/usage.md"), encoding: .utf8)
    }

    /// `--help` of the root and of every subcommand below it, keyed by command path ("" is the root,
    /// "dlq list" a nested one).
    static func helpOfEveryCommand(binary: String) throws -> [String: HelpText] {
        var helps: [String: HelpText] = [:]
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            let run = try runProcess(binary, path + ["--help"], limit: 30)
            guard run.status == 0 else {
                // A command whose help does not print is a failure, not a reason to skip.
                throw HelpFailed(command: (["evtop"] + path + ["--help"]).joined(separator: " "), status: run.status, stderr: run.stderr)
            }
            let help = HelpText(run.stdout)
            helps[path.joined(separator: " ")] = help
            pending += help.subcommands.map { path + [$0] }
        }
        return helps
    }
}

/// `evtop … --help` exited non-zero.
struct HelpFailed: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var stderr: String
    var description: String { "\(command) exited \(status): \(stderr)" }
}

/// What one `evtop … --help` says, parsed from ArgumentParser's layout: section headers at column 0
/// (`USAGE:`, `ARGUMENTS:`, `OPTIONS:`, `SUBCOMMANDS:`), entries indented by two spaces, their
/// descriptions continued on lines indented further, each list ended by a blank line.
struct HelpText {
    /// One entry of OPTIONS: its spellings (`-b`, `--broker`) and its default, when it says one.
    struct Option {
        var flags: [String]
        var description: String

        /// `1.0` from "… polls. (default: 1.0)": the default ArgumentParser appends, last in the text (a
        /// "(default: …)" that the help's author wrote inside a sentence is prose, not a value).
        var defaultValue: String? {
            guard let match = description.range(of: #"\(default: [^)]*\)$"#, options: .regularExpression) else { return nil }
            return String(description[match].dropFirst("(default: ".count).dropLast())
        }
    }

    var usage = ""
    var arguments: [String] = []
    var options: [Option] = []
    var subcommands: [String] = []

    init(_ text: String) {
        var section = ""
        for line in text.components(separatedBy: "\n") {
            if let header = line.range(of: #"^[A-Z][A-Z ]*:"#, options: .regularExpression) {
                section = String(line[header].dropLast())
                if section == "USAGE" { usage = line[header.upperBound...].trimmingCharacters(in: .whitespaces) }
                continue
            }
            let entry = line.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { section = ""; continue }
            let isEntry = line.hasPrefix("  ") && !line.hasPrefix("   ")
            switch section {
            case "OPTIONS" where isEntry && entry.hasPrefix("-"):
                // "-b, --broker <url>      Broker URL…": the spellings end at the first run of two spaces.
                let spellings = entry.components(separatedBy: "  ").first ?? entry
                let description = entry.dropFirst(spellings.count).trimmingCharacters(in: .whitespaces)
                options.append(Option(flags: Self.flags(in: spellings), description: description))
            case "OPTIONS" where !isEntry && !options.isEmpty:
                options[options.count - 1].description += " " + entry
            case "ARGUMENTS" where isEntry && entry.hasPrefix("<"):
                if let end = entry.firstIndex(of: ">") { arguments.append(String(entry[...end])) }
            case "SUBCOMMANDS" where isEntry:
                if let name = entry.split(separator: " ").first { subcommands.append(String(name)) }
            default:
                break
            }
        }
    }

    /// `-b`, `--broker`, `-X`: every flag spelling in a piece of text (a dash that starts a word).
    static func flags(in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let match = rest.range(of: #"(?<![\w-])--?[A-Za-z][A-Za-z0-9-]*"#, options: .regularExpression) {
            found.append(String(rest[match]))
            rest = rest[match.upperBound...]
        }
        return found
    }
}

/// docs/usage.md split into its `## evtop …` sections.
struct UsageDoc {
    /// One command's section: its whole text and the rows of its tables (cells, pipes unescaped).
    struct Section {
        var text = ""
        var rows: [[String]] = []

        /// The flags the section's tables list (first cells only, so prose may mention any flag).
        var flags: [String] { rows.flatMap { HelpText.flags(in: $0.first ?? "") } }

        /// The row whose first cell names `flag`.
        func row(for flag: String) -> [String]? { rows.first { HelpText.flags(in: $0.first ?? "").contains(flag) } }
    }

    /// Sections by command path: "" for `## evtop`, "dlq list" for `## evtop dlq list`.
    var sections: [String: Section] = [:]

    init(markdown: String) {
        var current: String?
        for line in markdown.components(separatedBy: "\n") {
            if line.hasPrefix("## ") {
                let title = line.dropFirst(3).replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces)
                let words = title.split(separator: " ").map(String.init)
                current = words.first == "evtop" ? words.dropFirst().joined(separator: " ") : nil
                if let current { sections[current] = Section() }
                continue
            }
            guard let name = current else { continue }
            sections[name]?.text += line + "\n"
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("|"), !trimmed.allSatisfy({ "|-: ".contains($0) }) {
                sections[name]?.rows.append(Self.cells(trimmed))
            }
        }
    }

    /// The cells of a Markdown table row; `\|` is a pipe inside a cell.
    static func cells(_ row: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for c in row.dropFirst() {
            if escaped { cell.append(c); escaped = false; continue }
            switch c {
            case "\\": escaped = true
            case "|": cells.append(cell.trimmingCharacters(in: .whitespaces)); cell = ""
            default: cell.append(c)
            }
        }
        return cells
    }
}

/// The comparison, as plain data in and messages out, so a test can show that it fails.
enum DocsCheck {
    static func problems(helps: [String: HelpText], doc: UsageDoc) -> [String] {
        var problems: [String] = []
        let common = doc.sections[""]?.flags ?? []
        for path in helps.keys.sorted() {
            guard let help = helps[path] else { continue }
            let name = path.isEmpty ? "evtop" : "evtop " + path
            guard let section = doc.sections[path] else {
                problems.append("\(name): in --help but docs/usage.md has no '## \(name)' section")
                continue
            }
            if !section.text.contains(help.usage) {
                problems.append("\(name): docs/usage.md lacks the usage line '\(help.usage)'")
            }
            for argument in help.arguments where !section.text.contains(argument) {
                problems.append("\(name): argument \(argument) is in --help but not in docs/usage.md")
            }
            let helpFlags = help.options.flatMap(\.flags)
            for flag in helpFlags where !section.flags.contains(flag) && !common.contains(flag) {
                problems.append("\(name): \(flag) is in --help but not in docs/usage.md")
            }
            for flag in section.flags where !helpFlags.contains(flag) {
                problems.append("\(name): docs/usage.md lists \(flag), which --help does not have")
            }
            for flag in common where !helpFlags.contains(flag) {
                problems.append("\(name): docs/usage.md says every command takes \(flag); this one's --help does not have it")
            }
            for option in help.options {
                guard let value = option.defaultValue, let flag = option.flags.last else { continue }
                let row = section.row(for: flag) ?? doc.sections[""]?.row(for: flag)
                if let row, !row.dropFirst().contains(where: { $0.contains("`\(value)`") }) {
                    problems.append("\(name): \(flag) defaults to \(value) in --help; its row in docs/usage.md does not say so")
                }
            }
        }
        for path in doc.sections.keys.sorted() where helps[path] == nil {
            problems.append("evtop \(path): docs/usage.md has a section for a command --help does not list")
        }
        return problems
    }
}
