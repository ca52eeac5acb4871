/// The meanings views ask the theme for; a theme maps every role to a style.
/// Views never name raw colours (as gitui's `Theme` and k9s skins do).
public enum Role: String, CaseIterable, Sendable, Hashable {
    case text = "text"
    case textDim = "text.dim"
    case textAccent = "text.accent"
    case header = "header"
    case headerTitle = "header.title"
    case headerSource = "header.source"
    case connectionLive = "conn.live"
    case connectionDown = "conn.down"
    case paused = "paused"
    case statusLine = "status"
    case statusKey = "status.key"
    case statusError = "status.error"
    case statusInfo = "status.info"
    case border = "border"
    case borderTitle = "border.title"
    case tableHeader = "table.header"
    case tableRow = "table.row"
    case tableSelected = "table.selected"
    case tableMarked = "table.marked"
    case tableSort = "table.sort"
    case sparkline = "sparkline"
    case barFilled = "bar.filled"
    case barEmpty = "bar.empty"
    case progressDone = "progress.done"
    case progressTodo = "progress.todo"
    case dialog = "dialog"
    case dialogBorder = "dialog.border"
    case dialogTitle = "dialog.title"
    case helpKey = "help.key"
    case helpText = "help.text"
    case filter = "filter"
    case rateZero = "rate.zero"
    case lagOK = "lag.ok"
    case lagWarn = "lag.warn"
    case lagStall = "lag.stall"
    case lagStop = "lag.stop"
    case lagRewind = "lag.rewind"
    case lagError = "lag.err"
    case sagaRunning = "saga.running"
    case sagaStepDone = "saga.step.done"
    case sagaStepFailed = "saga.step.failed"
    case sagaCompensation = "saga.step.compensation"
    case sagaSpan = "saga.span"
    case sagaEvent = "saga.event"
    case dlqMarker = "dlq.marker"
    case dlqRow = "dlq.row"

    /// The role's place in `allCases` (declaration order). A case-only enum of at most 256 cases is stored
    /// as that one byte; read without going through the name, which hashing by default would (every
    /// style lookup of every cell of every frame).
    @inline(__always)
    public var ordinal: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

    /// Hashes the case, not its name (equality compares cases too).
    public func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }
}

/// A set of roles: those a cell's style was made from (a selected STALL cell is `lag.stall+table.selected`).
/// A bit per role in `Role.allCases` order, so that styles stay cheap to copy.
public struct RoleSet: OptionSet, Sendable, Hashable {
    /// One bit per role, in `Role.allCases` order.
    public let rawValue: UInt64
    /// Creates a set from raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The set holding one role.
    public init(_ role: Role) {
        // A test checks that every role has a bit: at most 64 roles.
        self.init(rawValue: role.ordinal < 64 ? UInt64(1) << UInt64(role.ordinal) : 0)
    }

    /// The roles in the set, in `Role.allCases` order.
    public var members: [Role] {
        Role.allCases.prefix(64).enumerated().compactMap { i, role in rawValue & (UInt64(1) << UInt64(i)) != 0 ? role : nil }
    }

    /// `lag.stall+table.selected`; `none` for the empty set.
    public var name: String {
        let names = members.map(\.rawValue)
        return names.isEmpty ? "none" : names.joined(separator: "+")
    }
}

/// A named mapping from roles to styles, loaded from `themes/NAME.yaml`.
public struct Theme: Sendable, Hashable {
    /// Theme name (file name without extension).
    public var name: String
    /// Style per role; every role is present in a loaded theme.
    public var styles: [Role: Style] { didSet { stamped = Theme.stamp(styles) } }
    /// ``style(_:)``'s answers, by ``Role/ordinal``: asked for every cell of every frame.
    private var stamped: [Style]

    /// Creates a theme; roles left out fall back to `.plain`.
    public init(name: String, styles: [Role: Style]) {
        self.name = name
        self.styles = styles
        self.stamped = Theme.stamp(styles)
    }

    private static func stamp(_ styles: [Role: Style]) -> [Style] {
        Role.allCases.map { role in
            var style = styles[role] ?? .plain
            style.roles = RoleSet(role)
            return style
        }
    }

    /// The style for a role, stamped with the role (golden screens record it).
    @inline(__always)
    public func style(_ role: Role) -> Style {
        stamped[role.ordinal]
    }

    /// Equal names and styles (the stamped table follows from them).
    public static func == (a: Theme, b: Theme) -> Bool { a.name == b.name && a.styles == b.styles }

    /// Hashes what `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(styles)
    }

    /// The theme with every colour removed (NO_COLOR, monochrome terminals), keeping attributes; what a
    /// background marked is drawn in reverse video instead.
    public var withoutColor: Theme {
        // What a background told apart (the selected row, the header, badges) must still show without
        // colour: it becomes reverse video, on top of the style's own attributes.
        Theme(name: name, styles: styles.mapValues { style in
            var attributes = style.attributes
            if style.background != .default { attributes.insert(.reverse) }
            return Style(attributes: attributes)
        })
    }

    /// A built-in dark theme, used when no theme file can be found.
    public static let fallback: Theme = {
        var s: [Role: Style] = [:]
        for role in Role.allCases { s[role] = .plain }
        s[.textDim] = Style(foreground: .ansi(8))
        s[.textAccent] = Style(foreground: .ansi(6), attributes: .bold)
        s[.header] = Style(foreground: .ansi(15), background: .ansi(4))
        s[.headerTitle] = Style(foreground: .ansi(15), background: .ansi(4), attributes: .bold)
        s[.headerSource] = Style(foreground: .ansi(11), background: .ansi(4))
        s[.connectionLive] = Style(foreground: .ansi(10), background: .ansi(4), attributes: .bold)
        s[.connectionDown] = Style(foreground: .ansi(9), background: .ansi(4), attributes: .bold)
        s[.paused] = Style(foreground: .ansi(0), background: .ansi(11), attributes: .bold)
        s[.statusKey] = Style(foreground: .ansi(14), attributes: .bold)
        s[.statusError] = Style(foreground: .ansi(9), attributes: .bold)
        s[.statusInfo] = Style(foreground: .ansi(11))
        s[.border] = Style(foreground: .ansi(8))
        s[.borderTitle] = Style(foreground: .ansi(14), attributes: .bold)
        s[.tableHeader] = Style(foreground: .ansi(7), attributes: [.bold, .underline])
        s[.tableSelected] = Style(foreground: .ansi(0), background: .ansi(6))
        s[.tableMarked] = Style(foreground: .ansi(11), attributes: .bold)
        s[.tableSort] = Style(foreground: .ansi(11), attributes: .bold)
        s[.sparkline] = Style(foreground: .ansi(2))
        s[.barFilled] = Style(foreground: .ansi(2))
        s[.barEmpty] = Style(foreground: .ansi(8))
        s[.progressDone] = Style(foreground: .ansi(10))
        s[.progressTodo] = Style(foreground: .ansi(8))
        s[.dialog] = Style(foreground: .ansi(15), background: .ansi(0))
        s[.dialogBorder] = Style(foreground: .ansi(14), background: .ansi(0))
        s[.dialogTitle] = Style(foreground: .ansi(11), background: .ansi(0), attributes: .bold)
        s[.helpKey] = Style(foreground: .ansi(14), attributes: .bold)
        s[.filter] = Style(foreground: .ansi(11), attributes: .bold)
        s[.rateZero] = Style(foreground: .ansi(8))
        s[.lagOK] = Style(foreground: .ansi(2))
        s[.lagWarn] = Style(foreground: .ansi(11), attributes: .bold)
        s[.lagStall] = Style(foreground: .ansi(9), attributes: .bold)
        s[.lagStop] = Style(foreground: .ansi(9), attributes: [.bold, .reverse])
        s[.lagRewind] = Style(foreground: .ansi(13), attributes: .bold)
        s[.lagError] = Style(foreground: .ansi(9), attributes: [.bold, .reverse])
        s[.sagaRunning] = Style(foreground: .ansi(14))
        s[.sagaStepDone] = Style(foreground: .ansi(10))
        s[.sagaStepFailed] = Style(foreground: .ansi(9), attributes: .bold)
        s[.sagaCompensation] = Style(foreground: .ansi(13))
        s[.sagaSpan] = Style(foreground: .ansi(12))
        s[.sagaEvent] = Style(foreground: .ansi(15), attributes: .bold)
        s[.dlqMarker] = Style(foreground: .ansi(9), attributes: .bold)
        s[.dlqRow] = Style(foreground: .ansi(9))
        return Theme(name: "fallback", styles: s)
    }()
}
