import Foundation

/// Who runs a job: an exclusive `flock` on `<journal>.locks/<job id>`, held for the whole run.
/// The kernel drops it when the process dies (kill -9 included), so "the owner is gone" is
/// exactly "the lock can be taken" — no pid or heartbeat guessing, which a stalled produce or a
/// slow rate limit would fool.
public final class JobLock: @unchecked Sendable {
    // @unchecked: the descriptor is only closed, once, in deinit.
    private let fd: Int32
    /// The lock file.
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Takes the lock of `jobID` without waiting; nil when another run (in any process, this one
    /// included) holds it, or when the lock file cannot be created.
    public static func tryAcquire(journalPath: String, jobID: String) -> JobLock? {
        let dir = journalPath + ".locks"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + jobID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.map(String.init).joined()
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return JobLock(fd: fd, path: path)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
