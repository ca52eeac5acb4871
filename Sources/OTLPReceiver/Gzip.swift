import CZlib
import Foundation

/// gzip through the system zlib: bounded decompression for request bodies, compression for the exporter and tests.
public enum Gzip {
    /// Why a body could not be inflated.
    public enum Failure: Error, Equatable {
        /// Not gzip data, truncated or corrupt.
        case malformed(String)
        /// The inflated data would exceed the limit (a decompression bomb, or just too big).
        case tooLarge(limit: Int)
    }

    /// Inflates gzip `data`, refusing to produce more than `limit` bytes (checked as it goes).
    public static func decompress(_ data: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: gzip wrapper only.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .malformed("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var input = data
        let inputCount = input.count
        try input.withUnsafeMutableBufferPointer { (inBuf: inout UnsafeMutableBufferPointer<UInt8>) throws(Failure) in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inputCount)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END {
                    if status == Z_BUF_ERROR && stream.avail_in == 0 { throw .malformed("truncated gzip data") }
                    throw .malformed(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                }
                if output.count + produced > limit { throw .tooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    if stream.avail_in != 0 { throw .malformed("data after the end of the gzip stream") }
                    return
                }
                if produced == 0 && stream.avail_in == 0 { throw .malformed("truncated gzip data") }
            }
        }
        return output
    }

    /// Compresses `data` into a gzip stream.
    public static func compress(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
        var input = data
        let inputCount = input.count
        let written: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inputCount)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(written))
    }
}
