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
    /// A saga's timeline, with a note (e.g. read-only: scanned the newest records only).
    case sagaLoaded(SagaTimeline, note: String?)
    /// Loading sagas failed.
    case sagaLoadFailed(String)
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
    /// Close the source and open the named context's instead, without restarting: the run loop stops the
    /// source's background work, opens the context with its settings and starts over from a fresh state.
    case switchContext(String)
}
