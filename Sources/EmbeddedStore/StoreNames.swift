import Foundation

/// A store must be reached by one name. SQLite keeps a database's write-ahead log and shared-memory
/// index beside the name it was opened by (`NAME-wal`, `NAME-shm`): two processes writing through two
/// names (hard links, or a file bind-mounted elsewhere) each use their own log and corrupt the file,
/// and a reader through the other name sees neither. Symlinks and `..` are safe: SQLite resolves them.
enum StoreNames {
    /// Why the store at `path` must not be opened, or nil when it has one name (or does not exist yet).
    static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        if info.st_nlink > 1 {
            return "it has \(info.st_nlink) names (hard links), and SQLite keeps a store's write-ahead log beside the name it is "
                + "opened by, so two names would corrupt it. evtop left it untouched; keep one name (remove the other links) or copy the file"
        }
        if let real = realpath(path, nil) {
            defer { free(real) }
            if mountPoints().contains(String(cString: real)) {
                return "it is a file bind-mounted here, and SQLite keeps a store's write-ahead log beside the name it is opened by, "
                    + "so through this mount and its source it would be two stores that corrupt each other. evtop left it untouched; "
                    + "mount the folder that holds it instead"
            }
        }
        return nil
    }

    /// The mount points of this process's mount namespace (Linux: `/proc/self/mountinfo`; elsewhere none known).
    static func mountPoints() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var points = Set<String>()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 4 else { continue }
            points.insert(unescape(String(fields[4])))
        }
        return points
    }

    /// mountinfo writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count,
               let value = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
