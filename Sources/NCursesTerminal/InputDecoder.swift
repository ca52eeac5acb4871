import CNCurses
import TerminalUI

/// Turns what `wget_wch` returns into `InputEvent`s; pure, so every key family is
/// testable without a terminal.
///
/// The backend feeds it `(code, isKeyCode)`: `isKeyCode` is true when `wget_wch`
/// returned `KEY_CODE_YES` (a `KEY_*` constant) and false for a plain character.
/// Resizes, mouse reports and a lone ESC need terminal state to finish decoding,
/// so they come back as their own cases for the backend to complete.
public enum InputDecoder {
    /// The outcome of decoding one `wget_wch` result.
    public enum Decoded: Sendable, Hashable {
        /// A complete event.
        case event(InputEvent)
        /// KEY_RESIZE: the backend reports the new size.
        case resize
        /// KEY_MOUSE: the backend reads it with getmouse and calls `decodeMouse`.
        case mouse
        /// ESC: either the Escape key or the start of a sequence ncurses did not recognise.
        case escape
        /// Nothing the app handles (NUL, unknown key codes, C1 controls).
        case ignored
    }

    /// ncurses key codes, read once from the shim (they are macros in C).
    public enum KeyCode {
        public static let resize = cnc_KEY_RESIZE()
        public static let up = cnc_KEY_UP()
        public static let down = cnc_KEY_DOWN()
        public static let left = cnc_KEY_LEFT()
        public static let right = cnc_KEY_RIGHT()
        public static let pageDown = cnc_KEY_NPAGE()
        public static let pageUp = cnc_KEY_PPAGE()
        public static let home = cnc_KEY_HOME()
        public static let end = cnc_KEY_END()
        public static let backspace = cnc_KEY_BACKSPACE()
        public static let delete = cnc_KEY_DC()
        public static let backTab = cnc_KEY_BTAB()
        public static let enter = cnc_KEY_ENTER()
        public static let mouse = cnc_KEY_MOUSE()
        /// KEY_F(n).
        public static func function(_ n: Int) -> Int32 { cnc_KEY_F(Int32(n)) }
    }

    /// Mouse button masks for the wheel (xterm reports wheel up/down as buttons 4/5).
    public static let wheelUpMask = UInt(cnc_BUTTON4_PRESSED())
    /// See `wheelUpMask`.
    public static let wheelDownMask = UInt(cnc_BUTTON5_PRESSED())
    /// Lines one wheel notch scrolls.
    public static let wheelLines = 3

    /// Decodes one `wget_wch` result.
    public static func decode(_ code: Int32, isKeyCode: Bool) -> Decoded {
        isKeyCode ? decodeKeyCode(code) : decodeCharacter(code)
    }

    private static func decodeKeyCode(_ code: Int32) -> Decoded {
        switch code {
        case KeyCode.resize: return .resize
        case KeyCode.mouse: return .mouse
        case KeyCode.up: return .event(.key(.up))
        case KeyCode.down: return .event(.key(.down))
        case KeyCode.left: return .event(.key(.left))
        case KeyCode.right: return .event(.key(.right))
        case KeyCode.pageUp: return .event(.key(.pageUp))
        case KeyCode.pageDown: return .event(.key(.pageDown))
        case KeyCode.home: return .event(.key(.home))
        case KeyCode.end: return .event(.key(.end))
        case KeyCode.backspace: return .event(.key(.backspace))
        case KeyCode.delete: return .event(.key(.delete))
        case KeyCode.backTab: return .event(.key(.backTab))
        case KeyCode.enter: return .event(.key(.enter))
        case KeyCode.function(1)...KeyCode.function(12): return .event(.key(.function(Int(code - KeyCode.function(0)))))
        default: return .ignored
        }
    }

    private static func decodeCharacter(_ code: Int32) -> Decoded {
        switch code {
        case 9: return .event(.key(.tab))
        case 10, 13: return .event(.key(.enter))
        case 8, 127: return .event(.key(.backspace)) // ^H and DEL: terminals differ in which Backspace sends
        case 27: return .escape
        case 1...26:
            // Ctrl-A is 1 … Ctrl-Z is 26; Ctrl-C only arrives here if the tty is raw (in cbreak it is SIGINT).
            return .event(.key(.ctrl(Character(Unicode.Scalar(UInt8(code) + 0x60)))))
        case 0, 28...31, 0x80...0x9F: return .ignored
        default:
            guard code > 0, let scalar = Unicode.Scalar(UInt32(code)) else { return .ignored }
            return .event(.key(.char(Character(scalar))))
        }
    }

    /// The wheel event in a mouse report's button state, or nil for other buttons.
    public static func decodeMouse(buttonState: UInt) -> InputEvent? {
        if buttonState & wheelUpMask != 0 { return .scroll(-wheelLines) }
        if buttonState & wheelDownMask != 0 { return .scroll(wheelLines) }
        return nil
    }

    /// True for a byte that ends an escape sequence: the CSI final byte range `@`…`~`
    /// (after `ESC [` the parameter bytes `0`–`?` and intermediates ` `–`/` come first).
    public static func isSequenceFinal(_ code: Int32) -> Bool { (0x40...0x7E).contains(code) }

    /// Decodes the bytes after ESC of a sequence ncurses' terminfo did not know
    /// (e.g. `"[A"` for a terminal in normal rather than application cursor mode).
    public static func decodeEscapeSequence(_ body: String) -> Key? {
        switch body {
        case "[A", "OA": return .up
        case "[B", "OB": return .down
        case "[C", "OC": return .right
        case "[D", "OD": return .left
        case "[H", "OH", "[1~", "[7~": return .home
        case "[F", "OF", "[4~", "[8~": return .end
        case "[5~": return .pageUp
        case "[6~": return .pageDown
        case "[3~": return .delete
        case "[Z": return .backTab
        case "OM": return .enter
        case "OP", "[11~": return .function(1)
        case "OQ", "[12~": return .function(2)
        case "OR", "[13~": return .function(3)
        case "OS", "[14~": return .function(4)
        case "[15~": return .function(5)
        case "[17~": return .function(6)
        case "[18~": return .function(7)
        case "[19~": return .function(8)
        case "[20~": return .function(9)
        case "[21~": return .function(10)
        case "[23~": return .function(11)
        case "[24~": return .function(12)
        default: return nil
        }
    }
}
