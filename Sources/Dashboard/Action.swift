import Foundation
import EventModel
import TerminalUI

/// Everything that can change the state: input, source updates, time.
public enum Action: Sendable {
    /// A key press.
    case key(Key)
    /// The terminal was resized.
    case resize(Size)
    /// Mouse wheel, in lines (negative = up).
    case scroll(Int)
    /// A fresh snapshot from the source.
    case snapshot(BrokerSnapshot)
    /// The source failed to answer.
    case sourceFailed(String)
    /// Time passed (the clock in the header, message expiry).
    case tick(Date)
    /// The theme changed (after the run loop loaded it).
    case themeChanged(String)
    /// Something the run loop wants the user to know.
    case notify(String, isError: Bool)
    /// Dead letters read from a DLQ topic (the newest few hundred, any order).
    case deadLettersLoaded(topic: String, letters: [DeadLetter])
    /// Topics found to hold dead letters by their headers (the answer to `.probeDeadLetterTopics`).
    case deadLetterTopicsDetected([String])
    /// Journal states of loaded letters of a DLQ topic.
    case redriveStatesLoaded(topic: String, states: [RecordPosition: RedriveItemState])
    /// A redrive job moved another batch.
    case redriveProgress(RedriveProgress)
    /// A redrive job ended (done, cancelled or dry run).
    case redriveFinished(RedriveReport)
    /// A redrive job could not run or stopped on an error; the journal resumes it on the next start.
    case redriveFailed(String)
    /// Recent sagas for the list, with where they came from (index, or a bounded scan).
    case sagasLoaded([SagaListRow], note: String?)
    /// A saga's timeline, with a note (e.g. read-only: scanned the newest records only); `indexing`: the
    /// correlation index was still catching up, so the timeline may be missing records (it is asked again).
    case sagaLoaded(SagaTimeline, note: String?, indexing: Bool = false)
    /// Loading sagas failed.
    case sagaLoadFailed(String)
    /// Records sampled for the insights rules since the last sample.
    case insightsSampled([InsightRecord])
    /// A page of the messages view was read.
    case messagesRead(MessagesLoaded)
    /// A read of the messages view failed (its serial, and why).
    case messagesReadFailed(serial: Int, String)
    /// Timestamps of records read for time lag (the oldest retained record of partitions a group never
    /// committed on), read by the poller off the UI thread, once per partition and low watermark.
    case recordTimesRead([RecordTime])
    /// A recording's clock moved: the recorded snapshots up to it, oldest first (``PlaybackModel``).
    case playbackMoved(clock: Date, snapshots: [BrokerSnapshot])
    /// A recording made from the dashboard went on (`elapsed`: for how long) or ended (`finished`, the line to show).
    case recordingUpdated(elapsed: String?, finished: String?, isError: Bool)
}

/// What the reducer asks the run loop to do; the reducer itself never performs I/O.
public enum Effect: Sendable, Hashable {
    /// Load and switch to a theme by name or path.
    case loadTheme(String)
    /// Open a saga timeline (the reducer opens the view; the run loop may log or ignore it).
    case follow(String)
    /// Load the recent sagas and post `.sagasLoaded`.
    case loadSagas
    /// Load one saga's timeline and post `.sagaLoaded`.
    case loadSaga(String)
    /// Read the newest dead letters of these DLQ topics and post `.deadLettersLoaded` for each.
    case loadDeadLetters([String])
    /// Read the last record of each partition of these topics and post `.deadLetterTopicsDetected`
    /// with those that carry dead-letter headers.
    case probeDeadLetterTopics([String])
    /// Read the journal states of these letters (positions and timestamps) and post `.redriveStatesLoaded`.
    case loadRedriveStates(topic: String, positions: [RecordPosition], timestamps: [RecordPosition: Int64])
    /// Run a redrive job, posting `.redriveProgress` and then `.redriveFinished` or `.redriveFailed`.
    case startRedrive(RedriveRequest)
    /// Ask the running job to stop after the batch in flight.
    case cancelRedrive
    /// Set letters aside in the journal (or give them back), then post `.redriveStatesLoaded`.
    case skipLetters(SkipRequest)
    /// Put a held record (a loaded letter, a row of the messages window: ``HeldRecords/find(_:_:)``) on the
    /// terminal's clipboard (OSC 52): its payload, or all of it as JSON (`whole`).
    case copyRecord(RecordPosition, whole: Bool)
    /// Write a held record as JSON to a file (nil: `TOPIC-pP-OFFSET.json` in the working directory); never overwrites.
    case saveRecord(RecordPosition, path: String?)
    /// Close the source and open the named context's instead, without restarting: the run loop stops the
    /// source's background work, opens the context with its settings and starts over from a fresh state.
    case switchContext(String)
    /// Read a page of a topic's messages (resolving a seek first) and post `.messagesRead` or `.messagesReadFailed`.
    case readMessages(MessageRead)
    /// Move a recording's clock to this moment (`[` `]`); answered by `.playbackMoved`.
    case movePlayback(to: Date)
    /// Record an incident from this source into a new file (`:record`), for `duration` seconds or until stopped.
    case startRecording(path: String, duration: TimeInterval?)
    /// End the recording `:record` started (it finishes its file first).
    case stopRecording
    /// Stop the messages view's read of this serial if it is still under way (cancelled between batches; the
    /// view drops its answer): the window started over, or the list was left.
    case stopMessageRead(serial: Int)
}

/// Letters to set aside (skip) or give back (un-skip), as the operator confirmed them.
public struct SkipRequest: Sendable, Hashable {
    /// The DLQ topic.
    public var topic: String
    /// The letters.
    public var positions: [RecordPosition]
    /// Their timestamps, part of their redrive ids.
    public var timestamps: [RecordPosition: Int64]
    /// How they were chosen, for the audit trail (`3 marked`, `p0@42`).
    public var selection: String
    /// Give them back instead.
    public var undo: Bool
    /// Every loaded letter of the topic, whose states are read again afterwards.
    public var allLoaded: [RecordPosition]

    /// Creates a request.
    public init(topic: String, positions: [RecordPosition], timestamps: [RecordPosition: Int64], selection: String, undo: Bool,
                allLoaded: [RecordPosition]) {
        self.topic = topic
        self.positions = positions
        self.timestamps = timestamps
        self.selection = selection
        self.undo = undo
        self.allLoaded = allLoaded
    }
}

/// A yes/no question over the view; `y` or enter performs the effect, `n` or esc drops it.
public struct Confirmation: Sendable, Hashable {
    /// The dialog's title (`Skip letters`).
    public var title: String
    /// What will happen, one line each.
    public var lines: [String]
    /// What `y` does.
    public var effect: Effect

    /// Creates a question.
    public init(title: String, lines: [String], effect: Effect) {
        self.title = title
        self.lines = lines
        self.effect = effect
    }
}
