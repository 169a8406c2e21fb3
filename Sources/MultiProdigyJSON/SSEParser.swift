/// An incremental parser of `text/event-stream` bodies.
///
/// Bytes may arrive split anywhere, even inside a line terminator; the parser keeps what it has not
/// finished and emits an event only at the blank line that ends it. It accepts `\n`, `\r\n` and `\r`
/// line endings, `data:` with or without a following space, ignores comments (`: keep-alive`) and
/// unknown fields, and joins multi-line data with `\n`, as the WHATWG specification says.
///
/// ```swift
/// var parser = SSEParser()
/// var events: [SSEEvent] = []
/// parser.feed(chunk, into: &events)
/// ```
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventName: String?
    private var skipLeadingLineFeed = false
    /// How many bytes of a UTF-8 byte order mark opened the stream so far: 3 once past it, or once a
    /// byte showed there is none.
    private var byteOrderMarkBytes = 0
    private let maximumEventBytes: Int

    /// True once a line or an event grew past the size limit; the rest of the stream is ignored.
    public private(set) var exceededSizeLimit = false

    /// Creates a parser with no buffered input.
    ///
    /// - Parameter maximumEventBytes: The largest line or event accepted (default 16 MiB); past it
    ///   the parser stops and sets ``exceededSizeLimit``, so a runaway upstream cannot grow memory.
    public init(maximumEventBytes: Int = 16 << 20) {
        self.maximumEventBytes = maximumEventBytes
    }

    /// Feeds `bytes` and appends every event they complete to `events`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [SSEEvent]) {
        guard !exceededSizeLimit else { return }
        var start = 0
        var index = 0
        let count = bytes.count
        // A UTF-8 byte order mark may open the stream, split over reads like any bytes; it is not part
        // of the first field name.
        while byteOrderMarkBytes < 3, index < count {
            if bytes[index] == Self.byteOrderMark[byteOrderMarkBytes] {
                byteOrderMarkBytes += 1
                index += 1
                start = index
            } else {
                // No mark after all: the bytes that looked like one begin the first line.
                line.append(contentsOf: Self.byteOrderMark[..<byteOrderMarkBytes])
                byteOrderMarkBytes = 3
            }
        }
        if skipLeadingLineFeed, count > 0 {
            skipLeadingLineFeed = false
            if bytes[0] == 0x0A {
                start = 1
                index = 1
            }
        }
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                processLine(into: &events)
                if byte == 0x0D {
                    if index + 1 < count {
                        if bytes[index + 1] == 0x0A { index += 1 }
                    } else {
                        skipLeadingLineFeed = true
                    }
                }
                index += 1
                start = index
            } else {
                index += 1
            }
        }
        if start < count {
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<count]))
        }
        if line.count > maximumEventBytes || data.count > maximumEventBytes {
            exceededSizeLimit = true
            line = []
            resetEvent()
        }
    }

    /// Feeds a byte array; see ``feed(_:into:)-(UnsafeRawBufferPointer,_)``.
    public mutating func feed(_ bytes: [UInt8], into events: inout [SSEEvent]) {
        bytes.withUnsafeBytes { feed($0, into: &events) }
    }

    /// Ends the input: an unterminated last line is taken as a line, and an event still open is returned.
    ///
    /// Upstreams that close the connection right after their last `data:` line, without the blank line,
    /// still get their last event delivered; whether it is complete JSON is for the caller to judge.
    public mutating func finish() -> SSEEvent? {
        var events: [SSEEvent] = []
        if byteOrderMarkBytes < 3 {
            // The stream ended inside what looked like a byte order mark: those bytes were its line.
            line.append(contentsOf: Self.byteOrderMark[..<byteOrderMarkBytes])
            byteOrderMarkBytes = 3
        }
        if !line.isEmpty { processLine(into: &events) }
        if hasData {
            events.append(SSEEvent(name: eventName, data: data))
            resetEvent()
        }
        return events.last
    }

    private mutating func processLine(into events: inout [SSEEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            if hasData { events.append(SSEEvent(name: eventName, data: data)) }
            resetEvent()
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        var valueStart = colon == line.endIndex ? colon : colon + 1
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let field = line[..<colon]
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: line[valueStart...])
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            eventName = String(decoding: line[valueStart...], as: UTF8.self)
        }
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private mutating func resetEvent() {
        data = []
        hasData = false
        eventName = nil
    }
}
