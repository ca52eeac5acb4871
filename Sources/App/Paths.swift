import Foundation

/// Where evtop keeps its files, following the XDG base directory spec.
enum Paths {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var home: String { environment["HOME"] ?? NSHomeDirectory() }

    /// `$XDG_CONFIG_HOME/evtop` (default `~/.config/evtop`).
    static var configDirectory: String {
        (nonEmpty(environment["XDG_CONFIG_HOME"]) ?? home + "/.config") + "/evtop"
    }

    /// `$XDG_DATA_HOME/evtop` (default `~/.local/share/evtop`).
    static var dataDirectory: String {
        (nonEmpty(environment["XDG_DATA_HOME"]) ?? home + "/.local/share") + "/evtop"
    }

    /// `$XDG_STATE_HOME/evtop` (default `~/.local/state/evtop`), for the log file.
    static var stateDirectory: String {
        (nonEmpty(environment["XDG_STATE_HOME"]) ?? home + "/.local/state") + "/evtop"
    }

    /// The config file evtop reads when `--config` is not given.
    static var configFile: String { configDirectory + "/config.yaml" }
    /// The store `evtop` opens with no broker configured.
    static var defaultStore: String { dataDirectory + "/evtop.db" }
    /// The store `evtop demo` writes unless told otherwise.
    static var demoStore: String { dataDirectory + "/demo.db" }
    /// The log file.
    static var logFile: String { stateDirectory + "/evtop.log" }

    /// Expands a leading `~/`.
    static func expand(_ path: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    /// Creates the directory holding `path` when missing.
    static func ensureParent(of path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// The directory of the running executable (resolving symlinks).
    static var executableDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
}
