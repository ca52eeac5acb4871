import EmbeddedStore
import Foundation
import XCTest

/// The evtop binary under test: $EVTOP_BINARY (set by scripts/test), else the debug build.
func evtopBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["EVTOP_BINARY"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    let root = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent(".build/debug/evtop").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw XCTSkip("evtop binary not built at \(path); run scripts/test (swift build --build-tests first)")
    }
    return path
}

/// A scratch directory with XDG folders, so tests never touch the user's config or data.
final class Sandbox {
    let root: URL
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-e2e-\(UUID().uuidString.prefix(8))")
        for d in ["config", "data", "state"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true)
        }
    }
    var environment: [String: String] {
        ["XDG_CONFIG_HOME": root.appendingPathComponent("config").path,
         "XDG_DATA_HOME": root.appendingPathComponent("data").path,
         "XDG_STATE_HOME": root.appendingPathComponent("state").path]
    }
    func path(_ name: String) -> String { root.appendingPathComponent(name).path }
    /// Where evtop keeps the redrive journal of the store at `store` in this sandbox: named after the store's id.
    func journal(ofStore store: String) async throws -> String {
        let said = await (try SQLiteLog(path: store, mode: .readOnly)).identity()
        let identity = try XCTUnwrap(said, "the store says its identity")
        return root.appendingPathComponent("state/evtop/redrive/\(identity.stem).journal").path
    }
    /// The redrive journals evtop keeps in this sandbox's state folder (one per source identity).
    var journals: [String] {
        let folder = root.appendingPathComponent("state/evtop/redrive").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".journal") }.sorted().map { folder + "/" + $0 }
    }
    deinit { try? FileManager.default.removeItem(at: root) }
}

/// Result of running a command to completion.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program with arguments and extra environment, waiting at most `limit` seconds.
@discardableResult
func runProcess(_ program: String, _ args: [String], env: [String: String] = [:], limit: Double = 60,
                captureOutput: Bool = true) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    p.standardInput = FileHandle.nullDevice
    guard captureOutput else {
        // A daemon (the tmux server) would inherit our pipes and keep them open forever.
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return RunResult(status: p.terminationStatus, stdout: "", stderr: "")
    }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let outData = LockedData(), errData = LockedData()
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        group.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
    }
    let deadline = Date().addingTimeInterval(limit)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    group.wait()
    return RunResult(status: p.terminationStatus,
                     stdout: String(decoding: outData.get(), as: UTF8.self),
                     stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// Runs a program with posix_spawn and waits for it; stdio goes to /dev/null. Returns the exit status.
///
/// The child starts with no signal blocked or ignored: an async test runs on a libdispatch thread that
/// blocks nearly every signal, and a spawned tmux server kept that mask, so `kill-server` (a SIGTERM the
/// server sends itself) did nothing and the server and its shell outlived the test run.
func spawnAndWait(_ program: String, _ args: [String]) -> Int32 {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd: Int32 in [0, 1, 2] {
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
    }
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, program, &actions, &attributes, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status >> 8) & 0xff
}

/// A tmux server of our own (own socket) with one window: a real terminal to drive evtop in.
final class TmuxSession {
    let socket = "evtop-test-\(getpid())-\(UUID().uuidString.prefix(6))"
    let name = "e2e"
    let tmux: String

    init(width: Int, height: Int, command: String, env: [String: String]) throws {
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("tmux is not installed")
        }
        self.tmux = tmux
        let exports = env.map { "export \($0.key)='\($0.value)'" }.joined(separator: "; ")
        // A plain shell runs evtop, so that after it exits we can see the terminal is usable again.
        let shell = "env -i PATH=/usr/bin:/bin HOME=\(NSHomeDirectory()) TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"
        // Foundation's Process waits for descriptors the daemonising tmux server inherits, so it never
        // returns here: spawn and reap the client directly instead.
        let status = spawnAndWait(tmux, ["-L", socket, "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", shell])
        guard status == 0 else { throw XCTSkip("tmux new-session failed with status \(status)") }
        try run(["set-option", "-t", name, "status", "off"])
        send(literal: "\(exports); export PS1='$ '; clear")
        sendKeys("Enter")
        send(literal: command)
        sendKeys("Enter")
    }

    @discardableResult
    func run(_ args: [String]) throws -> RunResult {
        try runProcess(tmux, ["-L", socket] + args, limit: 10)
    }

    func send(literal text: String) { _ = try? run(["send-keys", "-t", name, "-l", text]) }
    func sendKeys(_ keys: String...) { _ = try? run(["send-keys", "-t", name] + keys) }

    /// The visible screen as text.
    func capture() -> String { (try? run(["capture-pane", "-p", "-t", name]))?.stdout ?? "" }

    /// Resizes the window (and so the pane): the app gets SIGWINCH.
    func resize(width: Int, height: Int) { _ = try? run(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"]) }

    /// Polls the screen until `predicate` holds; fails with the last screen after `limit` seconds.
    @discardableResult
    func waitFor(_ what: String, limit: Double = 30, file: StaticString = #filePath, line: UInt = #line,
                 _ predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(limit)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if predicate(screen) { return screen }
            usleep(100_000)
        }
        XCTFail("timed out waiting for \(what); last screen:\n\(screen)", file: file, line: line)
        return nil
    }

    deinit {
        // Spawned directly, as new-session is: Foundation's Process can wait on the server's descriptors.
        _ = spawnAndWait(tmux, ["-L", socket, "kill-server"])
    }
}

/// A headless `evtop demo` writing to `store` in the background: the second process tests attach to.
final class HeadlessDemo {
    private let process: Process
    init(_ process: Process) { self.process = process }
    /// Ends the demo (if it is still running) and waits for it.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// Starts `evtop demo --headless` on `store` for at most `seconds`.
func startHeadlessDemo(_ binary: String, store: String, rate: Int, seconds: Int, env: [String: String]) throws -> HeadlessDemo {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["demo", "--headless", "--store", store, "--rate", String(rate), "--duration", String(seconds)]
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return HeadlessDemo(p)
}

/// Starts a program in the background (stdio to /dev/null) and returns it, for tests that kill it.
func spawnProcess(_ program: String, _ args: [String], env: [String: String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}
