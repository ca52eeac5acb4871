import Foundation
import EventModel
import OTLPReceiver
import Dashboard
import Logging

/// Where the OTLP receiver listens (`--otlp HOST:PORT`), or `off`.
public enum OTLPListen: Equatable, Sendable {
    /// No receiver.
    case off
    /// Listen on host and port (port 0: any free port).
    case on(host: String, port: Int)

    /// The default: loopback, OTLP/HTTP's port.
    public static let standard = OTLPListen.on(host: "127.0.0.1", port: OTLPReceiver.defaultPort)
    /// The default address as text (`127.0.0.1:4318`), for help texts.
    public static let defaultAddress = "127.0.0.1:\(OTLPReceiver.defaultPort)"

    /// Parses `off`, `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback).
    public static func parse(_ text: String) throws -> OTLPListen {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "off" { return .off }
        let host: Substring, portText: Substring
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") {
            host = t[t.index(after: t.startIndex)..<close]
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":") else { throw UsageError("--otlp takes HOST:PORT or off, got '\(text)'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = t.lastIndex(of: ":"), !t[..<colon].contains(":") else {
                throw UsageError("--otlp takes HOST:PORT or off (e.g. 127.0.0.1:4318), got '\(text)'")
            }
            host = t[..<colon]
            portText = t[t.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw UsageError("--otlp: '\(portText)' is not a port (0-65535)")
        }
        return .on(host: host.isEmpty ? "127.0.0.1" : String(host), port: port)
    }

    /// `host:port` as a URL authority.
    static func authority(host: String, port: Int) -> String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }
}

/// Starts a receiver into `store`; on failure (e.g. the port is taken) returns the reason instead of throwing.
func startOTLPReceiver(_ listen: OTLPListen, store: any SpanStore, limits: OTLPReceiverLimits = OTLPReceiverLimits(),
                       log: @escaping @Sendable (String) -> Void) async -> (receiver: OTLPReceiver?, message: String) {
    guard case .on(let host, let port) = listen else { return (nil, "OTLP receiver off") }
    let receiver = OTLPReceiver(host: host, port: port, store: store, limits: limits, log: log)
    do {
        let bound = try await receiver.start()
        return (receiver, "OTLP/HTTP traces: http://\(OTLPListen.authority(host: host, port: bound))\(OTLPReceiver.tracesPath)")
    } catch {
        return (nil, "no OTLP receiver: cannot listen on \(OTLPListen.authority(host: host, port: port)) (\(error)); carrying on without traces")
    }
}

/// The dashboard's receiver: on by default where spans can be kept (a writable embedded store, a tapped RabbitMQ broker's tap store); a busy port is reported in the
/// status line and the dashboard carries on without one.
func startDashboardReceiver(_ option: String?, source: OpenedSource, limits: OTLPReceiverLimits,
                            state: inout AppState) async -> OTLPReceiver? {
    let listen = (try? option.map(OTLPListen.parse)) ?? .standard
    guard listen != .off else { return nil }
    guard let store = source.spanStore else {
        if option != nil { Reducer.reduce(&state, .notify("--otlp needs a writable embedded store; no OTLP receiver", isError: true)) }
        return nil
    }
    let logger = Logger(label: "evtop.otlp")
    let (receiver, message) = await startOTLPReceiver(listen, store: store, limits: limits, log: { logger.warning("\($0)") })
    // Success goes to the log only (the status line keeps its hints); a busy port is worth a message.
    if receiver == nil {
        logger.warning("\(message)")
        Reducer.reduce(&state, .notify(message, isError: true))
    } else {
        logger.info("\(message)")
    }
    return receiver
}

/// How long and how many spans the receiver keeps (`--span-retention`, `--span-max`).
public enum SpanRetentionSetting {
    /// The receiver limits for `--span-retention AGE|off` and `--span-max N|off`; throws a usage error otherwise.
    public static func limits(retention: String, max: String) throws -> SpanLimits {
        var limits = OTLPReceiverLimits()
        limits.retentionAge = try age(retention)
        if max.lowercased() == "off" {
            limits.retentionMaxSpans = nil
        } else if let n = Int(max.replacingOccurrences(of: "_", with: "")), n > 0 {
            limits.retentionMaxSpans = n
        } else {
            throw UsageError("--span-max takes a positive number of spans or off, got '\(max)'")
        }
        return limits
    }

    /// `90s`, `30m`, `24h`, `7d` (a bare number is seconds) as seconds; nil for `off`.
    static func age(_ text: String) throws -> TimeInterval? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "off" { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(t), scale = 1.0
        if let last = t.last, let unit = units[last] { number = t.dropLast(); scale = unit }
        guard let value = Double(number), value > 0, value.isFinite else {
            throw UsageError("--span-retention takes an age such as 90s, 30m, 24h or 7d, or off; got '\(text)'")
        }
        return value * scale
    }
}

/// What the OTLP receiver keeps and accepts (retention, sizes, connections).
public typealias SpanLimits = OTLPReceiverLimits
