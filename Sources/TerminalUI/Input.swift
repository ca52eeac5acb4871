import Foundation

/// A key press, decoded by the backend from the terminal's input.
public enum Key: Sendable, Hashable {
    /// A printable character.
    case char(Character)
    /// Control plus a letter (lowercase), e.g. ctrl("c").
    case ctrl(Character)
    /// Enter / Return.
    case enter
    /// Escape.
    case escape
    /// Backspace.
    case backspace
    /// Delete.
    case delete
    /// Tab.
    case tab
    /// Shift-Tab.
    case backTab
    /// Arrow up.
    case up
    /// Arrow down.
    case down
    /// Arrow left.
    case left
    /// Arrow right.
    case right
    /// Page up.
    case pageUp
    /// Page down.
    case pageDown
    /// Home.
    case home
    /// End.
    case end
    /// Function key F1–F12.
    case function(Int)
}

/// Something the terminal reports: a key, a resize, or a wheel movement.
public enum InputEvent: Sendable, Hashable {
    /// A key press.
    case key(Key)
    /// The terminal now has this size.
    case resize(Size)
    /// Mouse wheel up (negative) or down (positive), in lines.
    case scroll(Int)
}

/// How many colours a terminal can show; themes are adapted to it.
public enum ColorSupport: Sendable, Hashable {
    /// No colour (NO_COLOR, or a monochrome terminal): attributes only.
    case none
    /// The 8 basic colours.
    case basic8
    /// The 16 ANSI colours.
    case ansi16
    /// The 256-colour xterm palette.
    case palette256
}

/// What a terminal must do for the app: draw frames, report input and size.
public protocol TerminalBackend: AnyObject {
    /// Current size in cells.
    var size: Size { get }
    /// How many colours the terminal shows.
    var colorSupport: ColorSupport { get }
    /// Shows `buffer`, writing only the cells that differ from the last frame shown.
    func draw(_ buffer: ScreenBuffer)
    /// Waits up to `timeoutMillis` for input; nil when none came.
    func nextEvent(timeoutMillis: Int) -> InputEvent?
    /// Puts `text` on the clipboard of the terminal's host (OSC 52), only ever on the operator's request;
    /// false when this terminal cannot be asked.
    func copyToClipboard(_ text: String) -> Bool
}

/// OSC 52: the escape sequence that asks a terminal to set its clipboard. The text travels base64-encoded,
/// so nothing in it (escape sequences in a payload) reaches the terminal as control characters.
public enum ClipboardSequence {
    /// Largest text sent: terminals cap OSC 52 (xterm ~100 kB of base64 by default; tmux and kitty more).
    public static let maxBytes = 74_000

    /// `ESC ] 52 ; c ; BASE64 BEL`, or nil when `text` is over ``maxBytes``.
    public static func osc52(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else { return nil }
        return "\u{1b}]52;c;" + Data(bytes).base64EncodedString() + "\u{07}"
    }
}
