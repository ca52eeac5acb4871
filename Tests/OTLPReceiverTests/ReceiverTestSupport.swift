import EmbeddedStore
import EventModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import OTLPReceiver
import XCTest

/// A receiver on a free loopback port writing into a real SQLite store in a temporary directory.
class ReceiverTestCase: XCTestCase {
    var dir: URL!
    var store: SQLiteLog!
    var receiver: OTLPReceiver?
    var port = 0

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-otlp-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteLog(path: dir.appendingPathComponent("store.db").path)
    }

    override func tearDown() async throws {
        await receiver?.stop()
        receiver = nil
        store = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Default limits without retention (fixtures carry fixed, old timestamps).
    static let noRetention = OTLPReceiverLimits(retentionAge: nil, retentionMaxSpans: nil)

    func startReceiver(_ limits: OTLPReceiverLimits = ReceiverTestCase.noRetention) async throws {
        let r = OTLPReceiver(host: "127.0.0.1", port: 0, store: store, limits: limits)
        port = try await r.start()
        receiver = r
        XCTAssertGreaterThan(port, 0)
    }

    /// Another process holds the store's write lock until told to let go (a line on its stdin).
    func holdWriteLock() throws -> (release: () -> Void, process: Process) {
        let lock = Process()
        lock.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        lock.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN IMMEDIATE')
            print('locked', flush=True)
            sys.stdin.readline()
            c.execute('COMMIT')
            """, dir.appendingPathComponent("store.db").path]
        let out = Pipe(), input = Pipe()
        lock.standardOutput = out
        lock.standardInput = input
        try lock.run()
        _ = out.fileHandleForReading.availableData  // 'locked'
        return ({ input.fileHandleForWriting.write(Data("go\n".utf8)) }, lock)
    }

    var endpoint: String { "http://127.0.0.1:\(port)/v1/traces" }

    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One HTTP request over a fresh connection.
    func post(_ body: [UInt8], contentType: String? = "application/x-protobuf", encoding: String? = nil,
              path: String = "/v1/traces", method: String = "POST") async throws -> Reply {
        let reply = try await Self.post(port: port, body, contentType: contentType, encoding: encoding, path: path, method: method)
        // A 200 can come before the spans are committed (write-behind): what the tests then read is what the
        // writer stored once it caught up.
        await receiver?.flush()
        return reply
    }

    /// One HTTP request to a receiver on `port` over a fresh connection.
    static func post(port: Int, _ body: [UInt8], contentType: String? = "application/x-protobuf", encoding: String? = nil,
                     path: String = "/v1/traces", method: String = "POST") async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let encoding { request.setValue(encoding, forHTTPHeaderField: "Content-Encoding") }
        if method != "GET" { request.httpBody = Data(body) }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
        return Reply(status: http.statusCode, headers: headers, body: data)
    }

    /// A span as the demo would make it.
    func span(_ n: Int, trace: String = "0af7651916cd43dd8448eb211c80319c", conversation: String? = "ord-1",
              parent: String? = nil, links: [SpanLink] = []) -> Span {
        var attributes = [SpanAttribute("messaging.system", .string("kafka"))]
        if let conversation { attributes.append(SpanAttribute("messaging.message.conversation_id", .string(conversation))) }
        return Span(traceID: trace, spanID: String(format: "%016x", 0x37ad6b7169203300 + n), parentSpanID: parent,
                    service: "orders", name: "span \(n)", kind: .producer,
                    startUnixNano: 1_700_000_000_000_000_000 + UInt64(n) * 1_000_000,
                    endUnixNano: 1_700_000_000_000_000_000 + UInt64(n) * 1_000_000 + 500_000,
                    attributes: attributes, links: links)
    }

    /// The Python OpenTelemetry SDK sender in Tests/Fixtures.
    static var pythonSender: String {
        URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/otlp_send.py").path
    }

    /// Runs a program to completion off the cooperative pool; returns status and stdout once the receiver
    /// has stored what the program sent (a 200 can come before the commit, as in ``post(_:contentType:encoding:path:method:)``).
    func run(_ program: String, _ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result: (status: Int32, stdout: String, stderr: String) = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: program)
                    p.arguments = args
                    let out = Pipe(), err = Pipe()
                    p.standardOutput = out
                    p.standardError = err
                    try p.run()
                    let o = out.fileHandleForReading.readDataToEndOfFile()
                    let e = err.fileHandleForReading.readDataToEndOfFile()
                    p.waitUntilExit()
                    continuation.resume(returning: (p.terminationStatus, String(decoding: o, as: UTF8.self),
                                                    String(decoding: e, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        await receiver?.flush()
        return result
    }

    func requirePythonSDK() async throws {
        let probe = try await run("/usr/bin/env", ["python3", "-c", "import opentelemetry.exporter.otlp.proto.http"])
        if probe.status != 0 {
            XCTFail("the Python OpenTelemetry SDK is missing; scripts/deps installs it (\(probe.stderr.suffix(200)))")
            throw XCTSkip("no Python OpenTelemetry SDK")
        }
    }
}

/// Polls `body` until it returns non-nil, at most ~10 s.
func eventuallyValue<T>(_ body: () async throws -> T?) async throws -> T? {
    for _ in 0..<200 {
        if let v = try await body() { return v }
        try await Task.sleep(for: .milliseconds(50))
    }
    return nil
}

#if os(Linux)
/// A plain TCP connection to the receiver, optionally from another loopback address (127.0.0.2 stands for
/// a second client machine), sending exactly what a test gives it: an idle, slow or stuck client.
final class RawConnection {
    private var fd: Int32

    init(port: Int, from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { Glibc.close(fd); throw POSIXError(.EADDRNOTAVAIL) }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    /// True when the peer closes the connection (read returns 0 or an error) within the timeout.
    func readUntilClosed(timeoutMillis: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeoutMillis) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) <= 0
    }

    /// Sends `bytes`; false when the peer has gone (the write fails).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Sends text.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Everything the peer sends until it closes, or until nothing came for `timeoutMillis`; `closed` says which.
    func readAll(timeoutMillis: Int32) -> (text: String, closed: Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, timeoutMillis) > 0 else { return (String(decoding: data, as: UTF8.self), false) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (String(decoding: data, as: UTF8.self), true) }
            data += buffer[0..<n]
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
#endif
