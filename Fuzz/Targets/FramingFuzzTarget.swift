import MultiProdigyJSON
import MultiProdigyProviders
import NIOCore

/// The server-sent-events parser and the NDJSON line framer, fed whole and in pieces.
///
/// Properties, on any bytes cut anywhere:
/// - the events (or lines) are the same whatever the read boundaries;
/// - they are the ones a plain reading of the format gives (``referenceEvents(of:)``,
///   ``referenceLines(of:)``: the WHATWG event-stream rules for the fields the gateway reads, and
///   NDJSON's lines without blank ones).
enum FramingFuzzTarget {
    static let summary = "SSE events and NDJSON lines are the same whatever the read boundaries, and as the formats say"

    static func check(_ bytes: UnsafeRawBufferPointer) throws(FuzzViolation) {
        var input = FuzzInput(bytes)
        let sizes = input.take(input.choice(of: 8) + 1)
        let data = input.rest()
        let pieces = FuzzInput.pieces(of: data, sizes: sizes)

        let whole = try sseEvents(of: [data])
        try FuzzViolation.require(whole == referenceEvents(of: data), "the SSE parser's events differ from the format's")
        try FuzzViolation.require(try sseEvents(of: pieces) == whole, "the SSE parser's events depend on where reads end")

        let lines = try jsonLines(of: [data])
        try FuzzViolation.require(lines == referenceLines(of: data), "the NDJSON framer's lines differ from the format's")
        try FuzzViolation.require(try jsonLines(of: pieces) == lines, "the NDJSON framer's lines depend on where reads end")
    }

    /// The events ``SSEEventFramer`` makes of `pieces`, read in turn, then the end.
    static func sseEvents(of pieces: [[UInt8]]) throws(FuzzViolation) -> [SSEEvent] {
        var framer = SSEEventFramer()
        var events: [SSEEvent] = []
        do {
            for piece in pieces { try framer.feed(ByteBuffer(bytes: piece), into: &events) }
        } catch {
            throw FuzzViolation("the SSE framer refused a small stream: \(error)")
        }
        if let last = framer.finish() { events.append(last) }
        return events
    }

    /// The lines ``JSONLineFramer`` makes of `pieces`, read in turn, then the end.
    static func jsonLines(of pieces: [[UInt8]]) throws(FuzzViolation) -> [[UInt8]] {
        var framer = JSONLineFramer()
        var lines: [ByteBuffer] = []
        do {
            for piece in pieces { try framer.feed(ByteBuffer(bytes: piece), into: &lines) }
        } catch {
            throw FuzzViolation("the NDJSON framer refused a small stream: \(error)")
        }
        if let last = framer.finish() { lines.append(last) }
        return lines.map { Array($0.readableBytesView) }
    }

    /// The events of an event stream read by the format's rules (`data` and `event` fields, comments,
    /// CR, LF and CRLF line ends, a leading byte order mark), with an unfinished last event delivered.
    static func referenceEvents(of data: [UInt8]) -> [SSEEvent] {
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<index])
                if byte == 0x0D, index + 1 < bytes.endIndex, bytes[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex { lines.append(bytes[start...]) }

        var events: [SSEEvent] = []
        var buffer: [UInt8] = []
        var hasData = false
        var name: String?
        for line in lines {
            if line.isEmpty {
                if hasData { events.append(SSEEvent(name: name, data: buffer)) }
                buffer = []
                hasData = false
                name = nil
                continue
            }
            if line.first == UInt8(ascii: ":") { continue }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let field = line[..<(colon ?? line.endIndex)]
            var value = colon.map { line[($0 + 1)...] } ?? []
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            if field.elementsEqual("data".utf8) {
                if hasData { buffer.append(0x0A) }
                buffer.append(contentsOf: value)
                hasData = true
            } else if field.elementsEqual("event".utf8) {
                name = String(decoding: value, as: UTF8.self)
            }
        }
        if hasData { events.append(SSEEvent(name: name, data: buffer)) }
        return events
    }

    /// The lines of an NDJSON stream: split at LF, one trailing CR dropped, lines of only spaces and
    /// tabs skipped; an unterminated last line kept unless it is only spaces, tabs and CRs.
    static func referenceLines(of data: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var parts = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let last = parts.removeLast()
        for part in parts {
            var line = part
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            lines.append(Array(line))
        }
        if !last.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { lines.append(Array(last)) }
        return lines
    }
}
