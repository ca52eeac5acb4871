import Foundation
import GRDB

/// What went wrong with a SQLite file, sorted by what an operator can do about it.
///
/// Built from GRDB's `DatabaseError` by ``init(_:path:busyTimeout:)``; each evtop file (the store,
/// the correlation index, the redrive journal) turns it into its own error type, worded with
/// ``description`` (names the file) or ``reason`` (says "it", for a message that already names it).
public enum SQLiteFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The disk holding the file is full (or the file reached its size limit): `SQLITE_FULL`.
    case diskFull(path: String)
    /// The file can only be read: opened read-only, or the file or its folder is not writable.
    case readOnly(path: String)
    /// Another connection held the lock for longer than the busy timeout (seconds).
    case busy(path: String, timeout: TimeInterval)
    /// The file is damaged or is not a SQLite database at all.
    case corrupt(path: String, detail: String)
    /// The file could not be opened (missing folder, permissions).
    case cannotOpen(path: String, detail: String)
    /// The operating system reported an I/O error reading or writing the file.
    case ioError(path: String, detail: String)
    /// Anything else SQLite reported (a constraint, a misuse): a fault in evtop rather than in the environment.
    case failed(path: String, detail: String)

    /// Classifies a SQLite error about the file at `path`, opened with a busy timeout of `busyTimeout` seconds.
    public init(_ error: DatabaseError, path: String, busyTimeout: TimeInterval) {
        let detail = error.message ?? "SQLite error \(error.resultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_FULL:
            self = .diskFull(path: path)
        case .SQLITE_READONLY:
            self = .readOnly(path: path)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self = .busy(path: path, timeout: busyTimeout)
        case .SQLITE_NOTADB:
            self = .corrupt(path: path, detail: "not a SQLite database (\(detail))")
        case .SQLITE_CORRUPT, .SQLITE_FORMAT:
            self = .corrupt(path: path, detail: detail)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            self = .cannotOpen(path: path, detail: detail)
        case .SQLITE_IOERR:
            // A full disk often arrives as an I/O error (ENOSPC writing the -wal, or sizing the -shm) rather
            // than SQLITE_FULL: say so, since "I/O error" reads as damage and invites moving a good file aside.
            self = Self.diskIsFull(near: path) ? .diskFull(path: path) : .ioError(path: path, detail: detail)
        default:
            self = .failed(path: path, detail: detail)
        }
    }

    /// The file the failure is about.
    public var path: String {
        switch self {
        case .diskFull(let p), .readOnly(let p), .busy(let p, _): return p
        case .corrupt(let p, _), .cannotOpen(let p, _), .ioError(let p, _), .failed(let p, _): return p
        }
    }

    /// What happened and what to do, naming the file.
    public var description: String {
        switch self {
        case .diskFull(let p): return "the disk holding '\(p)' is full; free some space, then try again"
        case .readOnly(let p): return "'\(p)' can only be read (opened read-only, or the file or its folder is not writable)"
        case .busy(let p, let t): return "'\(p)' stayed locked by another writer for more than \(Self.seconds(t)) s; try again"
        case .corrupt(let p, let d): return "'\(p)' is damaged or not a SQLite database: \(d)"
        case .cannotOpen(let p, let d): return "cannot open '\(p)': \(d)"
        case .ioError(let p, let d): return "the disk reported an I/O error on '\(p)': \(d)"
        case .failed(let p, let d): return "SQLite failed on '\(p)': \(d)"
        }
    }

    /// What happened and what to do, for a message that has already named the file ("cannot use journal 'x': …").
    public var reason: String {
        switch self {
        case .diskFull: return "the disk holding it is full; free some space, then try again"
        case .readOnly: return "it can only be read (opened read-only, or the file or its folder is not writable)"
        case .busy(_, let t): return "another writer held its lock for more than \(Self.seconds(t)) s; try again"
        case .corrupt(_, let d): return "it is damaged or not a SQLite database: \(d)"
        case .cannotOpen(_, let d): return "it cannot be opened: \(d)"
        case .ioError(_, let d): return "the disk reported an I/O error: \(d)"
        case .failed(_, let d): return "SQLite failed: \(d)"
        }
    }

    /// Below this many free bytes a disk counts as full: SQLite cannot size a `-shm` (32 KiB) or append
    /// a few pages to the `-wal`.
    public static let fullDiskThreshold: UInt64 = 1 << 20

    /// True when the file system holding `path` has less than ``fullDiskThreshold`` bytes free for this user.
    public static func diskIsFull(near path: String) -> Bool {
        let folder = (path as NSString).deletingLastPathComponent
        var info = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &info) == 0 else { return false }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize) < fullDiskThreshold
    }

    /// Whole seconds without a fraction ("5"), others with one decimal ("0.5").
    private static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() && abs(t) < 1e9 ? String(Int(t)) : String(format: "%.1f", t)
    }
}
