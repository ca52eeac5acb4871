import EmbeddedStore
import EventModel
import Foundation
import XCTest

/// A temporary directory removed at tear-down, plus helpers shared by the store tests.
class StoreTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("evtop-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String = "store.db") -> String { dir.appendingPathComponent(name).path }

    func record(_ topic: String, partition: Int32? = nil, key: String? = nil, value: String = "v",
                headers: [RecordHeader] = [], ts: Int64 = 1_700_000_000_000) -> OutgoingRecord {
        OutgoingRecord(topic: topic, partition: partition, timestampMillis: ts,
                       key: key.map { Array($0.utf8) }, headers: headers, value: Array(value.utf8))
    }

    /// Bytes, size and modification time of a file: what must not change when a store refuses it.
    struct Fingerprint: Equatable {
        var bytes: Data
        var size: Int
        var modified: Date?
    }

    func fingerprint(_ path: String) throws -> Fingerprint {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return Fingerprint(bytes: try Data(contentsOf: URL(fileURLWithPath: path)),
                           size: (attributes[.size] as? Int) ?? -1,
                           modified: attributes[.modificationDate] as? Date)
    }

    /// Asserts that `body` throws exactly `expected`.
    func assertThrows<E: Error & Equatable, T>(_ expected: E, file: StaticString = #filePath, line: UInt = #line,
                                               _ body: () async throws -> T) async {
        do {
            _ = try await body()
            XCTFail("expected \(expected), nothing thrown", file: file, line: line)
        } catch let error as E {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("expected \(expected), got \(type(of: error)): \(error)", file: file, line: line)
        }
    }

    /// Runs `python3 -c script args...` and returns its stdout; fails the test on a non-zero exit.
    @discardableResult
    func python(_ script: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script] + args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0,
                       "python failed: \(String(decoding: errors, as: UTF8.self))", file: file, line: line)
        return String(decoding: output, as: UTF8.self)
    }
}

/// Reads lines from a pipe, blocking.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer = Data(buffer[(newline + 1)...])
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return buffer.isEmpty ? nil : String(decoding: buffer, as: UTF8.self) }
            buffer.append(chunk)
        }
    }
}
