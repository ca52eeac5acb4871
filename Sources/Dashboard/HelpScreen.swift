import TerminalUI

/// The `?` overlay: every key and command, grouped.
public enum HelpScreen {
    /// The help sections (also printed by `evtop --help-keys` style docs and the README).
    public static let sections: [HelpSection] = [
        HelpSection(title: "Views", entries: [
            HelpEntry(key: "1 / :topics", text: "topics and produce rates"),
            HelpEntry(key: "2 / :lag", text: "consumer lag"),
            HelpEntry(key: "3 / :sagas", text: "sagas by correlation ID"),
            HelpEntry(key: "4 / :dlq", text: "dead letters"),
            HelpEntry(key: "enter", text: "drill in: partitions"),
            HelpEntry(key: "esc", text: "clear filter, then back"),
        ]),
        HelpSection(title: "Move", entries: [
            HelpEntry(key: "j k ↓ ↑", text: "next / previous row"),
            HelpEntry(key: "g G", text: "first / last row"),
            HelpEntry(key: "PgDn PgUp", text: "page down / up"),
            HelpEntry(key: "wheel", text: "scroll"),
        ]),
        HelpSection(title: "Table", entries: [
            HelpEntry(key: "/", text: "filter (regex, /!x inverts)"),
            HelpEntry(key: "s", text: "sort by next column"),
            HelpEntry(key: "S", text: "reverse sort"),
            HelpEntry(key: "t", text: "lag: offsets ↔ time behind"),
            HelpEntry(key: "enter", text: "dlq → letters → detail"),
            HelpEntry(key: "space", text: "mark / unmark a letter"),
            HelpEntry(key: "r", text: "requeue marked or this one"),
            HelpEntry(key: "R", text: "requeue all shown"),
            HelpEntry(key: "c", text: "dead letter → its saga"),
        ]),
        HelpSection(title: "General", entries: [
            HelpEntry(key: ":", text: "command line"),
            HelpEntry(key: ":theme NAME", text: "switch theme live"),
            HelpEntry(key: ":follow ID", text: "follow a saga"),
            HelpEntry(key: "p", text: "pause / resume"),
            HelpEntry(key: "?", text: "this help"),
            HelpEntry(key: "q / :q", text: "quit"),
        ]),
    ]

    static func overlay(_ state: AppState) -> HelpOverlay {
        HelpOverlay(title: "Keys — any key closes", sections: sections)
    }
}
