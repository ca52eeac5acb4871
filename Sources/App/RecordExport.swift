import Foundation
import EventModel
import Dashboard
import TerminalUI

/// A held record (a loaded dead letter, a row of the messages window) as one JSON document, what `Y`
/// copies and `:save` writes: the shape `evtop messages --json` prints (``RecordJSON``), and for a letter
/// what evtop read in it (`deadLetter`).
enum RecordExport {
    /// The record as pretty JSON; `rules` find its event type and correlation ID when the view had not;
    /// `redrive` is a letter's state in the redrive journal.
    static func json(_ held: HeldRecord, redrive: RedriveItemState?, rules: CorrelationRules) throws -> String {
        let r = held.record
        var doc = RecordJSON(r, extraction: held.extraction ?? rules.extract(r))
        if let letter = held.letter { doc.deadLetter = DLQOutput.row(letter, state: redrive) }
        return try ScriptJSON.encode(doc)
    }

    /// A held letter's state in the redrive journal, as the view last read it.
    static func redriveState(_ held: HeldRecord, _ state: AppState) -> RedriveItemState? {
        held.letter == nil ? nil : state.redriveStates[held.record.topic]?[held.position]
    }

    /// What `y` copies: the payload as text when it is UTF-8, else base64; and how to name it.
    static func payload(_ record: Record) -> (text: String, what: String) {
        guard let value = record.value else { return ("", "an empty payload (tombstone)") }
        let size = NumberFormat.bytes(Int64(value.count))
        if let text = String(validating: value, as: UTF8.self) { return (text, "the payload (\(size))") }
        return (Data(value).base64EncodedString(), "the binary payload as base64 (\(size))")
    }

    /// The record whole: a messages row keeps only the start of a long value, so a cut one is read again
    /// from the log at its position (nil: the log no longer has it there).
    static func whole(_ held: HeldRecord, log: any LogReader) async throws -> HeldRecord? {
        guard held.cutFrom != nil else { return held }
        let p = held.position
        let (records, _) = try await log.read(topic: p.topic, partition: p.partition, from: p.offset, maxRecords: 1)
        guard let record = records.first(where: { $0.offset == p.offset }) else { return nil }
        return HeldRecord(record: record, extraction: held.extraction, letter: held.letter)
    }

    /// `:save`: writes the held record at `position` to `path` (nil: ``defaultFileName(_:)``), off the UI
    /// thread, and posts what happened.
    static func save(_ position: RecordPosition, path: String?, state: AppState, rules: CorrelationRules, log: any LogReader,
                     mailbox: ActionMailbox) -> Task<Void, Never>? {
        guard let held = HeldRecords.find(state, position) else {
            mailbox.post(.notify("that record is no longer loaded: nothing saved", isError: true))
            return nil
        }
        let file = path.map(Paths.expand) ?? defaultFileName(position)
        let redrive = redriveState(held, state)
        return Task.detached {
            do {
                guard let whole = try await RecordExport.whole(held, log: log) else {
                    mailbox.post(.notify("\(position.topic) p\(position.partition)@\(position.offset) is no longer in the log: nothing saved", isError: true))
                    return
                }
                try RecordExport.write(try RecordExport.json(whole, redrive: redrive, rules: rules), to: file)
                mailbox.post(.notify("saved \(position.topic) p\(position.partition)@\(position.offset) as JSON to \(file)", isError: false))
            } catch {
                mailbox.post(.notify("\(error)", isError: true))
            }
        }
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

/// `y` and `Y`: a held record to the terminal's clipboard, and the sentence that says what happened.
enum RecordClipboard {
    static func copy<Backend: TerminalBackend>(_ position: RecordPosition, whole: Bool, state: AppState, rules: CorrelationRules,
                                               to backend: Backend) -> String {
        guard let held = HeldRecords.find(state, position) else { return "that record is no longer loaded: nothing copied" }
        let noun = held.letter == nil ? "record" : "letter"
        if let size = held.cutFrom {
            // Only the start of the value is held: a part is never copied as if it were the whole.
            let kept = NumberFormat.bytes(Int64(held.record.value?.count ?? 0))
            return "the view keeps only the first \(kept) of this \(NumberFormat.bytes(Int64(size))) value: :save writes the \(noun) whole to a file"
        }
        let text: String, what: String
        if whole {
            guard let json = try? RecordExport.json(held, redrive: RecordExport.redriveState(held, state), rules: rules) else { return "the \(noun) could not be written as JSON" }
            (text, what) = (json, "the \(noun) as JSON (\(NumberFormat.bytes(Int64(json.utf8.count))))")
        } else {
            (text, what) = RecordExport.payload(held.record)
        }
        guard text.utf8.count <= ClipboardSequence.maxBytes else {
            return "\(what) is too big for a terminal's clipboard: :save writes it to a file"
        }
        guard backend.copyToClipboard(text) else { return "this terminal cannot take the clipboard: :save writes the \(noun) to a file" }
        return "copied \(what) to the clipboard (OSC 52: the terminal must allow it; tmux needs set-clipboard on)"
    }
}
