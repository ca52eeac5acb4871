import Foundation
import EventModel
import TerminalUI

/// A record a view holds, as `y`, `Y` and `:save` export it: a loaded dead letter, or a row of the
/// messages window. Both views hand their record to the same export.
public struct HeldRecord: Sendable, Hashable {
    /// The record as held (a messages row keeps at most ``MessagesModel/maxValueBytes`` of its value).
    public var record: Record
    /// The value's length as stored when the held value is cut shorter (nil: the record is whole).
    public var cutFrom: Int?
    /// What the correlation rules found when the record was read (nil: not worked out yet).
    public var extraction: CorrelationRules.Extraction?
    /// The dead letter, when the record is held as one (its export says what evtop read in it).
    public var letter: DeadLetter?

    /// Creates a held record.
    public init(record: Record, cutFrom: Int? = nil, extraction: CorrelationRules.Extraction? = nil, letter: DeadLetter? = nil) {
        self.record = record
        self.cutFrom = cutFrom
        self.extraction = extraction
        self.letter = letter
    }

    /// Where it is.
    public var position: RecordPosition { RecordPosition(topic: record.topic, partition: record.partition, offset: record.offset) }
}

/// `y`, `Y` and `:save` on a record: the letter views and the messages views share these bindings, and
/// their effects (``Effect/copyRecord(_:whole:)``, ``Effect/saveRecord(_:path:)``) name a position that
/// ``find(_:_:)`` looks up in whichever view's state holds it.
public enum HeldRecords {
    /// The record `y`, `Y` and `:save` act on in the view shown: the one open, else the highlighted row's.
    public static func current(_ state: AppState) -> RecordPosition? {
        switch state.view {
        case .deadLetterDetail(let topic, let partition, let offset):
            return RecordPosition(topic: topic, partition: partition, offset: offset)
        case .deadLetterList(let topic):
            return Reducer.highlighted(DeadLetterModel.letterRows(state, topic: topic), state.deadLetterCursor, key: \.key)
                .map { RecordPosition(topic: topic, partition: $0.partition, offset: $0.offset) }
        case .registered("message", let argument):
            return MessagesModel.recordPosition(argument)
        case .registered("messages", _):
            return MessagesModel.highlighted(state).map { HeldRecord(messageRow: $0).position }
        default:
            return nil
        }
    }

    /// The record at `position` as a view holds it: a loaded dead letter or a row of the messages window,
    /// the current view's kind first (a DLQ topic opened in the messages view may be held as both).
    public static func find(_ state: AppState, _ position: RecordPosition) -> HeldRecord? {
        let letter = {
            DeadLetterModel.letter(state, topic: position.topic, partition: position.partition, offset: position.offset)
                .map { HeldRecord(record: $0.record, letter: $0) }
        }
        let message = { MessagesModel.row(state, position).map(HeldRecord.init(messageRow:)) }
        switch state.view {
        case .registered("message", _), .registered("messages", _):
            return message() ?? letter()
        default:
            return letter() ?? message()
        }
    }

    static let copyPayload = KeyBinding([.char("y")], "y", "copy the record's payload to the clipboard (OSC 52)") { state, _ in
        current(state).map { [.copyRecord($0, whole: false)] } ?? []
    }
    static let copyWhole = KeyBinding([.char("Y")], "Y", "copy the whole record as JSON (as evtop messages --json) to the clipboard (OSC 52)") { state, _ in
        current(state).map { [.copyRecord($0, whole: true)] } ?? []
    }
    /// `:save [PATH]`: the record as JSON to a file.
    static let save = CommandBinding(verbs: ["save", "w"], label: ":save [PATH]", help: "write the letter or record as JSON to a file") { state, _, argument in
        guard let position = current(state) else {
            Reducer.say(&state, "nothing to save here: open a dead letter or a record (or highlight one) first", error: true)
            return []
        }
        return [.saveRecord(position, path: argument.isEmpty ? nil : argument)]
    }
}

extension HeldRecord {
    /// A row of the messages window: its record (cut when its value was longer), with what the rules found.
    init(messageRow row: MessageRow) {
        let kept = row.record.value?.count ?? 0
        self.init(record: row.record, cutFrom: row.valueBytes.flatMap { $0 > kept ? $0 : nil },
                  extraction: CorrelationRules.Extraction(correlationID: row.correlationID, eventType: row.eventType))
    }
}
