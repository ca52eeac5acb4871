import EmbeddedStore
import EventModel
import Foundation
import KafkaLog

/// `--keep-up SECONDS`: the dashboard (the evtop binary, in a 200×60 tmux terminal, its own state folder)
/// on a cluster a producer writes `rate` JSON events a second to, for `seconds`. Every second the bench
/// reads the dashboard's index file (read-only, from outside) and works out how far behind it is: for each
/// partition not indexed to its end, the age of the last record indexed there (records carry the time
/// they were produced). At the end it prints the worst lag after the first 10 s, the series, and the
/// frame times the dashboard logs when it quits.
struct KeepUp {
    let evtop: String
    let bootstrap: String
    let topic: String
    let partitions: Int32
    let rate: Int
    let seconds: Int
    let writer: KafkaLog
    /// Open the topic's messages view and tail it (`m`, `f`) once the dashboard is up: the frames then
    /// are the tail's, at `rate` records a second.
    var tail = false

    func run() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-keepup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        let socket = "evtop-keepup-\(getpid())"
        let command = "env XDG_STATE_HOME=\(state.path) XDG_CONFIG_HOME=\(state.path) TERM=xterm-256color \(evtop) --broker kafka://\(bootstrap)"
        try tmux(socket, ["new-session", "-d", "-x", "200", "-y", "60", command])
        defer { try? tmux(socket, ["kill-server"]) }

        let indexFolder = state.appendingPathComponent("evtop/index")
        let clock = ContinuousClock()
        let start = clock.now
        var produced = 0
        var perPartition = [Int64](repeating: 0, count: Int(partitions))
        var worst: [Double] = []
        // Each second's line is printed as it comes, so a run stopped early still shows what it saw.
        print("keep-up: producing \(rate)/s for \(seconds) s over \(partitions) partitions; dashboard index behind, per second:")
        fflush(nil)
        // 10 batches a second, each stamped with the time it was written.
        let batch = Swift.max(1, rate / 10)
        var nextSecond = 1
        var tailing = false
        while clock.now - start < .seconds(seconds) {
            let now = Int64(Date().timeIntervalSince1970 * 1_000)
            let records = (0..<batch).map { j -> OutgoingRecord in
                let i = produced + j
                let p = Int32(i % Int(partitions))
                return OutgoingRecord(topic: topic, partition: p, timestampMillis: now, key: Array("order-\(i / 6)".utf8),
                                      value: Array("{\"type\":\"OrderPlaced\",\"correlationId\":\"live-\(i / 6)\",\"amount\":\(i % 997),\"seq\":\(i)}".utf8))
            }
            try await writer.produce(records)
            for r in records { perPartition[Int(r.partition ?? 0)] += 1 }
            produced += batch
            let elapsed = clock.now - start
            if elapsed >= .seconds(nextSecond) {
                let behind = try await secondsBehind(indexFolder: indexFolder, produced: perPartition)
                worst.append(behind ?? .infinity)
                let achieved = Double(produced) / Swift.max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                print(String(format: "%3ds %@ (produced %.0f/s so far)", nextSecond,
                             behind.map { String(format: "%.2f s behind", $0) } ?? "no index yet", achieved))
                fflush(nil)
                nextSecond += 1
            }
            if tail, !tailing, clock.now - start >= .seconds(3) {
                try tmux(socket, ["send-keys", "m"])
                try await Task.sleep(for: .milliseconds(300))
                try tmux(socket, ["send-keys", "f"])
                tailing = true
            }
            let target = start + .milliseconds(produced * 1_000 / rate)
            if clock.now < target { try await Task.sleep(until: target, clock: clock) }
        }
        if tail {
            // What the tail shows at the end: its title says how many records it passed over.
            let file = state.appendingPathComponent("screen.txt").path
            try tmux(socket, ["capture-pane", "-b", "evtop-screen"])
            try tmux(socket, ["save-buffer", "-b", "evtop-screen", file])
            let screen = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            print("keep-up: the tail's title: " + (screen.split(separator: "\n").first { $0.contains("tailing") }.map(String.init) ?? "(no tail title)"))
        }
        try tmux(socket, ["send-keys", "q"])
        try await Task.sleep(for: .seconds(2))
        let log = (try? String(contentsOf: state.appendingPathComponent("evtop/evtop.log"), encoding: .utf8)) ?? ""
        let frames = log.split(separator: "\n").last { $0.contains("evtop.frames") }.map(String.init) ?? "no frame line in the log"
        // What went wrong inside, if anything (a read that failed, a slow broker): the last few warnings.
        for line in log.split(separator: "\n").filter({ $0.contains(" warning ") || $0.contains(" error ") }).suffix(40) {
            print("keep-up: the dashboard's log: " + line.prefix(300))
        }
        let afterWarmup = worst.dropFirst(10)
        let max = afterWarmup.max() ?? .infinity
        print("keep-up: \(produced) events produced (asked: \(rate)/s for \(seconds) s)")
        print(String(format: "keep-up: worst after the first 10 s: %.2f s behind; frames while indexing: ", max) + frames)
    }

    /// Seconds of traffic the index has not reached: for each partition whose indexed head is before what was
    /// produced, now minus the time of its last record indexed. Nil before the dashboard made its index.
    func secondsBehind(indexFolder: URL, produced: [Int64]) async throws -> Double? {
        guard let name = try? FileManager.default.contentsOfDirectory(atPath: indexFolder.path).first(where: { $0.hasSuffix(".sqlite") })
        else { return nil }
        let index = try CorrelationIndex(path: indexFolder.appendingPathComponent(name).path, readOnly: true)
        let coverage = try await index.coverage()
        let now = Date().timeIntervalSince1970
        var behind = 0.0
        for (p, high) in produced.enumerated() where high > 0 {
            guard let c = coverage[TopicPartition(topic, Int32(p))] else { return nil }
            guard c.head < high else { continue }
            // Nothing indexed forward yet: everything produced waits, since the first batch.
            let last = c.headMillis.map { Double($0) / 1_000 } ?? 0
            behind = Swift.max(behind, last == 0 ? .infinity : now - last)
        }
        return behind
    }

    func tmux(_ socket: String, _ args: [String]) throws {
        // posix_spawn and waitpid, not Foundation's Process: the tmux server daemonises from this client,
        // and Process waits on descriptors and children the server keeps for as long as it lives.
        // No signal blocked or ignored in the child: this runs on a libdispatch thread that blocks nearly
        // all of them, and a tmux server keeping that mask cannot be told to exit (kill-server is a SIGTERM).
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
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/tmux", "-L", socket] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/tmux", &actions, &attributes, argv, environ) == 0 else {
            throw NSError(domain: "tmux", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot start tmux"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
