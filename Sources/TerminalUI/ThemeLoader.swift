import Yams

/// Why a theme file was rejected; the description names the theme, the line and the problem.
public struct ThemeError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What is wrong.
    public enum Problem: Sendable, Hashable {
        /// The YAML itself does not parse.
        case syntax(String)
        /// The document is not shaped like a theme (e.g. `roles` is not a mapping).
        case structure(String)
        /// A role name that `Role` does not have.
        case unknownRole(String)
        /// Roles that the theme leaves out.
        case missingRoles([String])
        /// A colour that is not "#rrggbb", 0–255, a colour name or "default".
        case badColor(String)
        /// An attribute that is not bold, dim, underline, reverse or italic.
        case badAttribute(String)
        /// A key inside a role other than fg, bg and attrs.
        case unknownField(String)
    }

    /// Theme name.
    public var theme: String
    /// 1-based line in the YAML text, when known.
    public var line: Int?
    /// 1-based column, when known.
    public var column: Int?
    /// The problem.
    public var problem: Problem

    /// Creates an error.
    public init(theme: String, line: Int?, column: Int? = nil, problem: Problem) {
        self.theme = theme
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// E.g. `theme "dark", line 12: unknown role "tabel.header"`.
    public var description: String {
        var place = "theme \"\(theme)\""
        if let line {
            place += ", line \(line)"
            if let column { place += ", column \(column)" }
        }
        let what: String
        switch problem {
        case .syntax(let s): what = "YAML syntax error: \(s)"
        case .structure(let s): what = s
        case .unknownRole(let r): what = "unknown role \"\(r)\""
        case .missingRoles(let rs): what = "missing role(s): \(rs.joined(separator: ", "))"
        case .badColor(let c): what = "bad colour \"\(c)\" (use \"#rrggbb\", 0–255, a colour name or \"default\")"
        case .badAttribute(let a): what = "bad attribute \"\(a)\" (use bold, dim, underline, reverse, italic)"
        case .unknownField(let f): what = "unknown field \"\(f)\" (use fg, bg, attrs)"
        }
        return place + ": " + what
    }
}

/// Reads themes from YAML text (k9s-like: a `palette` of anchored colours and a `roles` map).
///
/// ```yaml
/// palette:
///   accent: &accent "#5fafff"
/// roles:
///   table.header: { fg: *accent, attrs: [bold, underline] }
/// ```
/// Every `Role` must be present. Pure: reading the file is the caller's job.
public enum ThemeLoader {
    /// Parses a theme; throws `ThemeError` with the line of the offending entry.
    public static func parse(yaml: String, name: String) throws -> Theme {
        func fail(_ problem: ThemeError.Problem, _ mark: Mark?) -> ThemeError {
            ThemeError(theme: name, line: mark?.line, column: mark?.column, problem: problem)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntaxError(error, theme: name)
        } catch {
            throw ThemeError(theme: name, line: nil, problem: .syntax(String(describing: error)))
        }
        guard let root, let top = root.mapping else {
            throw fail(.structure("the document must be a mapping with a \"roles\" key"), root?.mark)
        }
        if let palette = top["palette"] {
            guard let entries = palette.mapping else {
                throw fail(.structure("\"palette\" must be a mapping of names to colours"), palette.mark)
            }
            for (key, value) in entries {
                guard let text = value.scalar?.string, color(text) != nil else {
                    throw fail(.badColor(value.scalar?.string ?? "?"), key.mark)
                }
            }
        }
        guard let rolesNode = top["roles"] else {
            throw fail(.structure("no \"roles\" mapping"), root.mark)
        }
        guard let roles = rolesNode.mapping else {
            throw fail(.structure("\"roles\" must be a mapping of role names to styles"), rolesNode.mark)
        }
        var styles: [Role: Style] = [:]
        for (key, value) in roles {
            let roleName = key.scalar?.string ?? "?"
            guard let role = Role(rawValue: roleName) else { throw fail(.unknownRole(roleName), key.mark) }
            styles[role] = try style(of: value, keyMark: key.mark, fail: fail)
        }
        let missing = Role.allCases.filter { styles[$0] == nil }.map(\.rawValue)
        if !missing.isEmpty {
            let keyMark = top.first { $0.key.scalar?.string == "roles" }?.key.mark
            throw fail(.missingRoles(missing), keyMark ?? rolesNode.mark)
        }
        return Theme(name: name, styles: styles)
    }

    /// The style in one role entry: a mapping with optional fg, bg, attrs (null = plain).
    static func style(of node: Node, keyMark: Mark?, fail: (ThemeError.Problem, Mark?) -> ThemeError) throws -> Style {
        if let scalar = node.scalar, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
            return .plain
        }
        guard let fields = node.mapping else {
            throw fail(.structure("a role must be a mapping like { fg: \"#ffffff\", attrs: [bold] }"), keyMark)
        }
        var style = Style.plain
        for (key, value) in fields {
            let field = key.scalar?.string ?? "?"
            switch field {
            case "fg", "bg":
                let text = value.scalar?.string ?? "?"
                guard let c = color(text) else { throw fail(.badColor(text), keyMark) }
                if field == "fg" { style.foreground = c } else { style.background = c }
            case "attrs":
                let names: [String]
                if let seq = value.sequence {
                    names = seq.map { $0.scalar?.string ?? "?" }
                } else if let s = value.scalar?.string {
                    names = s.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                } else {
                    names = ["?"]
                }
                for n in names {
                    guard let a = attribute(n) else { throw fail(.badAttribute(n), keyMark) }
                    style.attributes.insert(a)
                }
            default:
                throw fail(.unknownField(field), keyMark)
            }
        }
        return style
    }

    static let colorNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// A colour from its theme spelling: "#rrggbb", 0–255, a name, "bright-<name>", "grey", "default".
    public static func color(_ text: String) -> Color? {
        let t = text.trimmingWhitespace().lowercased()
        if t == "default" || t == "none" { return .default }
        if t.hasPrefix("#") {
            let hex = t.dropFirst()
            guard hex.count == 6, hex.allSatisfy(\.isHexDigit), let v = UInt32(hex, radix: 16) else { return nil }
            return .rgb(UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
        }
        if !t.isEmpty, t.allSatisfy(\.isASCII), t.allSatisfy(\.isNumber) {
            guard let n = Int(t), n <= 255 else { return nil }
            return n < 16 ? .ansi(UInt8(n)) : .indexed(UInt8(n))
        }
        if t == "grey" || t == "gray" { return .ansi(8) }
        if let i = colorNames.firstIndex(of: t) { return .ansi(UInt8(i)) }
        if t.hasPrefix("bright-"), let i = colorNames.firstIndex(of: String(t.dropFirst("bright-".count))) {
            return .ansi(UInt8(i + 8))
        }
        return nil
    }

    /// An attribute from its theme spelling.
    public static func attribute(_ text: String) -> TextAttributes? {
        switch text.trimmingWhitespace().lowercased() {
        case "bold": return .bold
        case "dim": return .dim
        case "underline": return .underline
        case "reverse": return .reverse
        case "italic": return .italic
        default: return nil
        }
    }

    /// A Yams error as a ThemeError with its line.
    static func syntaxError(_ error: YamlError, theme: String) -> ThemeError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text): " } ?? ""
            return ThemeError(theme: theme, line: mark.line, column: mark.column, problem: .syntax(detail + problem))
        case .reader(let problem, let offset, _, let yaml):
            let line = offset.map { off in yaml.utf8.prefix(off).filter { $0 == 10 }.count + 1 }
            return ThemeError(theme: theme, line: line, problem: .syntax(problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ThemeError(theme: theme, line: context.mark.line, column: context.mark.column,
                              problem: .syntax("duplicate key(s): " + duplicates.joined(separator: ", ")))
        default:
            return ThemeError(theme: theme, line: nil, problem: .syntax(String(describing: error)))
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
