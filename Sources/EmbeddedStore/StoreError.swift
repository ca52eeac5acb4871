import EventModel
import Foundation
import SQLiteSupport

/// Why an embedded store could not be opened or written, worded for an operator.
///
/// Every opening error is raised before the file is modified: evtop never
/// "repairs", converts or initialises a file it does not recognise.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A valid SQLite database that belongs to something else (no `evtop_meta`, another application id).
    case notAnEvtopStore(String)
    /// An empty (0-byte) file: not a store, and never turned into one.
    case emptyFile(String)
    /// Not a database at all, or a damaged one (bad header, failed `PRAGMA quick_check`, truncated).
    case corrupt(String, String)
    /// Written by a newer evtop whose schema this build cannot read.
    case newerSchema(String, found: Int, supported: Int)
    /// An evtop store whose tables or columns are not those its schema version promises (edited by hand,
    /// or written by something else): the detail says what is missing.
    case unexpectedSchema(String, String)
    /// Asked to open a file that does not exist where no store may be created (read-only, or a command
    /// that only uses an existing store).
    case missing(String)
    /// A write was attempted on a store opened read-only (or on a file SQLite can only read).
    case readOnly(String)
    /// A store opened for writing that this process cannot write (the reason says why: permissions,
    /// its folder, a read-only file system). It can still be opened read-only.
    case notWritable(String, String)
    /// The disk holding the store is full: nothing is wrong with the file.
    case diskFull(String)
    /// The file could not be opened at all (missing directory, permissions, a directory, ...).
    case cannotOpen(String, String)
    /// The file has another name SQLite would keep a second write-ahead log under (see `StoreNames`).
    case severalNames(String, String)

    /// The path the error is about.
    public var path: String {
        switch self {
        case .notAnEvtopStore(let p), .emptyFile(let p), .missing(let p), .readOnly(let p), .diskFull(let p): return p
        case .corrupt(let p, _), .cannotOpen(let p, _), .unexpectedSchema(let p, _), .notWritable(let p, _), .severalNames(let p, _): return p
        case .newerSchema(let p, _, _): return p
        }
    }

    /// A one-line explanation saying what happened and what to do.
    public var description: String {
        switch self {
        case .notAnEvtopStore(let p):
            return "'\(p)' is a SQLite database but not an evtop store (no evtop_meta table or a foreign application id); "
                + "evtop left it untouched. Point --broker at an evtop store, or at a new file to create one"
        case .emptyFile(let p):
            return "'\(p)' is an empty file, not an evtop store; evtop left it untouched. Point --broker at an evtop store, "
                + "or remove the empty file and create a store there with evtop demo --store or evtop collect --store"
        case .corrupt(let p, let detail):
            return "'\(p)' is not a usable evtop store: \(detail). evtop left it untouched; "
                + "restore it from a backup, or move it aside and let evtop create a new store"
        case .newerSchema(let p, let found, let supported):
            return "'\(p)' was written by a newer evtop (schema \(found), this evtop reads up to \(supported)); "
                + "upgrade evtop. The file was left untouched"
        case .unexpectedSchema(let p, let detail):
            return "'\(p)' is a SQLite database but not an evtop store as this evtop knows it (\(detail); was it edited by hand?); "
                + "evtop left it untouched. Point --broker at an evtop store, or at a new file to create one"
        case .missing(let p):
            return "'\(p)' does not exist, and only evtop demo --store and evtop collect --store create a store. "
                + "Check the path, or create the store with one of them"
        case .readOnly(let p):
            return "'\(p)' is open read-only, so writes are refused; "
                + "reopen it without --read-only (and check the file's permissions) to write"
        case .notWritable(let p, let reason):
            return "'\(p)' is read-only: \(reason). evtop left it untouched; "
                + "make it writable to change it, or use --read-only to only read it"
        case .diskFull(let p):
            return "the disk holding '\(p)' is full; the store is not damaged and evtop left it untouched. "
                + "Free some space, then try again"
        case .cannotOpen(let p, let detail):
            return "cannot open '\(p)': \(detail). Check that the directory exists and that evtop may read (and write) it"
        case .severalNames(let p, let why):
            return "will not open '\(p)': \(why)"
        }
    }
}

extension StoreError {
    /// How the embedded store's files (the log, its spans, a correlation index) report a SQLite failure:
    /// a file that can only be read or is damaged as a `StoreError`; a lock held too long as
    /// `BrokerError.unavailable` (try again); a full disk as `BrokerError.writeRefused`; I/O errors and
    /// faults as the ``SQLiteFailure`` itself, which says what happened.
    static func translate(_ failure: SQLiteFailure) -> any Error {
        switch failure {
        case .readOnly(let p): return StoreError.readOnly(p)
        case .corrupt(let p, let detail): return StoreError.corrupt(p, detail)
        case .cannotOpen(let p, let detail): return StoreError.cannotOpen(p, detail)
        case .busy: return BrokerError.unavailable(failure.description)
        case .diskFull: return BrokerError.writeRefused(failure.description)
        case .ioError, .failed: return failure
        }
    }

    /// ``translate(_:)`` for a store opened for writing: SQLite finding it can only read the file (its
    /// `-wal` or `-shm` made by another user, say) is a store that cannot be written, not a read-only open.
    static func translateWriting(_ failure: SQLiteFailure) -> any Error {
        if case .readOnly(let p) = failure {
            return StoreError.notWritable(p, "SQLite can only read it (check the permissions of the file, of its -wal and -shm files and of its folder)")
        }
        return translate(failure)
    }

    /// A failure while inspecting a file before opening it: whatever it is, the file cannot be used as it is.
    static func inspecting(_ failure: SQLiteFailure) -> StoreError {
        switch failure {
        case .readOnly(let p): return .readOnly(p)
        case .diskFull(let p): return .diskFull(p)
        case .corrupt(let p, let detail), .ioError(let p, let detail): return .corrupt(p, detail)
        case .cannotOpen(let p, let detail), .failed(let p, let detail): return .cannotOpen(p, detail)
        case .busy(let p, _): return .cannotOpen(p, failure.reason)
        }
    }
}
