import Foundation
import EventModel
import Dashboard
import TerminalUI

/// One dead letter as a self-contained JSON document (what `Y` copies and `:save` writes): the record
/// exactly (key, headers and value as text when they are UTF-8, else base64), and what evtop read in it.
enum LetterExport {
    /// Bytes and headers as `evtop messages` writes them (one encoding for every record evtop exports).
    typealias Bytes = RecordJSON.Bytes
    typealias Header = RecordJSON.Header

    struct Document: Encodable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var timestamp: String
        var key: Bytes?
        var headers: [Header]
        /// Nil for a tombstone.
        var value: Bytes?
        var deadLetter: DLQOutput.JSONRow
    }

    /// The letter as pretty JSON.
    static func json(_ letter: DeadLetter, state: AppState) throws -> String {
        let r = letter.record
        let redrive = state.redriveStates[r.topic]?[RecordPosition(topic: r.topic, partition: r.partition, offset: r.offset)]
        let doc = Document(topic: r.topic, partition: r.partition, offset: r.offset, timestamp: DLQOutput.iso(r.timestampMillis),
                           key: r.key.map(Bytes.init), headers: r.headers.map { Header(name: $0.name, value: Bytes($0.value)) },
                           value: r.value.map(Bytes.init), deadLetter: DLQOutput.row(letter, state: redrive))
        return try ScriptJSON.encode(doc)
    }

    /// What `y` copies: the payload as text when it is UTF-8, else base64; and how to name it.
    static func payload(_ letter: DeadLetter) -> (text: String, what: String) {
        guard let value = letter.record.value else { return ("", "an empty payload (tombstone)") }
        let size = NumberFormat.bytes(Int64(value.count))
        if let text = String(validating: value, as: UTF8.self) { return (text, "the payload (\(size))") }
        return (Data(value).base64EncodedString(), "the binary payload as base64 (\(size))")
    }

    /// `orders.DLT-p0-42.json`, with anything but letters, digits, `.`, `-` and `_` replaced.
    static func defaultFileName(_ position: RecordPosition) -> String {
        let safe = String(position.topic.unicodeScalars.map { s in
            (s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-".unicodeScalars.contains(s))) ? Character(s) : "_"
        })
        return "\(safe)-p\(position.partition)-\(position.offset).json"
    }

    /// Writes `text` to `path`, refusing to replace a file that exists (O_EXCL).
    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let why = errno == EEXIST ? "it exists already: name another path (:save PATH)" : String(cString: strerror(errno))
            throw OperatorError("cannot write \(TextWidth.sanitized(path)): \(why)")
        }
        defer { close(fd) }
        let bytes = Array((text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw OperatorError("cannot write \(TextWidth.sanitized(path)): \(String(cString: strerror(errno)))") }
            written += n
        }
    }
}

/// `y` and `Y`: a letter to the terminal's clipboard, and the sentence that says what happened.
enum LetterClipboard {
    static func copy<Backend: TerminalBackend>(_ position: RecordPosition, whole: Bool, state: AppState, to backend: Backend) -> String {
        guard let letter = DeadLetterModel.letter(state, topic: position.topic, partition: position.partition, offset: position.offset) else {
            return "that letter is no longer loaded: nothing copied"
        }
        let text: String, what: String
        if whole {
            guard let json = try? LetterExport.json(letter, state: state) else { return "the letter could not be written as JSON" }
            (text, what) = (json, "the letter as JSON (\(NumberFormat.bytes(Int64(json.utf8.count))))")
        } else {
            (text, what) = LetterExport.payload(letter)
        }
        guard text.utf8.count <= ClipboardSequence.maxBytes else {
            return "\(what) is too big for a terminal's clipboard: :save writes it to a file"
        }
        guard backend.copyToClipboard(text) else { return "this terminal cannot take the clipboard: :save writes the letter to a file" }
        return "copied \(what) to the clipboard (OSC 52: the terminal must allow it; tmux needs set-clipboard on)"
    }
}
