import Foundation
import Synchronization

/// SIGINT and SIGTERM for the command-line commands (the dashboard has its own, which restore the
/// terminal first). Dispatch's worker threads block signals and an async `main` leaves no other
/// thread to take them, so with the default disposition Ctrl-C would stay pending until a command
/// ended on its own (a broker that does not answer: many seconds). A dispatch source per signal
/// routes it instead: to the command's handler when it has one (cancel a job, stop the collector),
/// else it ends the process by that signal at once.
public enum Interrupts {
    private struct Router {
        var sources: [any DispatchSourceSignal] = []
        var handler: (@Sendable (Int32) -> Void)?
    }
    private static let router = Mutex(Router())

    /// Starts routing SIGINT and SIGTERM; idempotent. Call before a command starts its work.
    public static func install() {
        router.withLock { r in
            guard r.sources.isEmpty else { return }
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    if let handler = router.withLock({ $0.handler }) { handler(sig) } else { dieBy(sig) }
                }
                source.resume()
                r.sources.append(source)
            }
        }
    }

    /// Sends the signals to `handler` from now on (nil: back to ending the process), installing the routing if needed.
    static func route(to handler: (@Sendable (Int32) -> Void)?) {
        install()
        router.withLock { $0.handler = handler }
    }

    /// Ends the process by `sig` at once. This runs on a dispatch thread, which blocks signals: a plain
    /// `raise` would stay pending there forever. Unblocked, the default action kills the process (so
    /// a shell sees "killed by SIGINT"); should it not, the exit status says the same.
    static func dieBy(_ sig: Int32) -> Never {
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
        _exit(128 + sig)
    }
}
