import Foundation
import Logging
import Synchronization
import TerminalUI
import EventModel

/// A swift-log handler appending lines to a file: the screen belongs to the dashboard.
struct FileLogHandler: LogHandler {
    private final class Sink: Sendable {
        let handle: Mutex<FileHandle?>
        init(path: String) {
            try? Paths.ensureParent(of: path)
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            // O_APPEND: every write lands at the end even when another evtop (the demo beside the
            // dashboard) appends to the same log; a seek once at open would overwrite its lines.
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            handle = Mutex(fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : nil)
        }
        func write(_ line: String) {
            handle.withLock { h in try? h?.write(contentsOf: Data(line.utf8)) }
        }
    }

    private static let sinks = Mutex<[String: Sink]>([:])
    private let sink: Sink
    private let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, path: String) {
        self.label = label
        self.sink = FileLogHandler.sinks.withLock { sinks in
            if let s = sinks[path] { return s }
            let s = Sink(path: path)
            sinks[path] = s
            return s
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let stamp = Date().formatted(.iso8601)
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // Errors quote store and broker text: escape it so `tail -f` cannot be steered, and mask what
        // could be a secret (a URL's password, a `password=` in a library's line) as every error does.
        sink.write(TextWidth.sanitized(Secrets.scrub("\(stamp) \(event.level) \(label): \(event.message)\(meta)")) + "\n")
    }

    /// Sends every logger of the process to the log file.
    static func bootstrap() {
        let path = Paths.logFile
        LoggingSystem.bootstrap { label in FileLogHandler(label: label, path: path) }
    }
}

/// Where the process's logs go.
public enum AppLogging {
    /// Sends every logger of the process (librdkafka's through KafkaLog among them) to evtop's log
    /// file: the terminal shows the dashboard, or a command's output and its one-line error. Call once.
    public static func bootstrap() { FileLogHandler.bootstrap() }
}
