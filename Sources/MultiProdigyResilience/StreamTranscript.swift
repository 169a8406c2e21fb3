import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyRouting
import NIOCore

/// What a streamed answer has sent the client so far, for choice 0: enough to decide whether
/// another target can continue it, and to make that continuation look like the same stream.
///
/// Fed every chunk the client receives, in order. Only plain text can be continued: a tool call,
/// a refusal, reasoning or audio already sent cannot be handed to another model as a prefill.
///
/// What it keeps has a fixed bound, however long the stream: at most `maximumTextBytes` of text
/// (`server.max_stream_transcript_bytes`), the stream's identity and a running token estimate. A
/// longer answer still relays, but its transcript no longer holds the whole of it, so it cannot be
/// continued.
///
/// ```swift
/// var transcript = StreamTranscript(maximumTextBytes: 1 << 20)
/// transcript.record(chunk)
/// if transcript.isContinuable { /* prefill transcript.text */ }
/// ```
public struct StreamTranscript: Sendable, Equatable {
    /// The most distinct `finish_reason`s kept (for the spans), and the most characters of each.
    static let maximumFinishReasons = 8
    /// See ``maximumFinishReasons``.
    static let maximumFinishReasonLength = 32

    /// The stream's `id`, from the first chunk that had one.
    public private(set) var id: String?
    /// The stream's `created`, as its JSON number text, from the first chunk that had one.
    public private(set) var created: String?
    /// Choice 0's `delta.content`, concatenated, while it fits in ``maximumTextBytes``; once the
    /// text outgrows it, its beginning up to that size, ending on a whole character (see
    /// ``isTruncated``).
    public private(set) var text = ""
    /// The most UTF-8 bytes ``text`` holds.
    public let maximumTextBytes: Int
    /// Whether choice 0's text grew past ``maximumTextBytes``, so ``text`` holds only its beginning
    /// and the answer cannot be continued.
    public private(set) var isTruncated = false
    /// Whether anything other than choice 0's text was sent (tool calls, a refusal, reasoning,
    /// audio, another choice).
    public private(set) var sentOtherThanText = false
    /// Whether a choice's `finish_reason` was sent.
    public private(set) var finished = false
    /// The distinct `finish_reason`s the choices were sent, in order (`stop`, `length`, ...).
    public private(set) var finishReasons: [String] = []
    /// The estimated tokens of all of choice 0's text, counted as it arrives, kept or not.
    public var estimatedTextTokens: Int { textTokens.tokensClosingOpenPiece }
    private var textTokens = TokenTally()

    /// An empty transcript.
    ///
    /// - Parameter maximumTextBytes: The most text kept for a continuation, in UTF-8 bytes (default
    ///   1 MiB, as `server.max_stream_transcript_bytes`).
    public init(maximumTextBytes: Int = 1 << 20) {
        self.maximumTextBytes = max(0, maximumTextBytes)
    }

    /// Whether a continuation could finish the answer: text was sent, all of it kept, nothing
    /// else, no end yet.
    public var isContinuable: Bool { !text.isEmpty && !isTruncated && !sentOtherThanText && !finished }

    /// Records one chunk sent to the client. A chunk that is not a JSON object changes nothing.
    public mutating func record(_ chunk: ByteBuffer) {
        // One pass over the bytes with the scanner: no JSON tree is built for a chunk. A key given
        // twice counts once, with its last value, as a client's JSON parser reads it.
        chunk.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return }
            for (position, member) in members.enumerated() where Self.isLast(position, of: members) {
                switch member.key {
                case "id" where id == nil && member.kind == .string:
                    id = JSONScanner.decodeString(at: member.value, in: bytes)
                case "created" where created == nil && member.kind == .number:
                    created = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[member.value]), as: UTF8.self)
                case "choices" where member.kind == .array:
                    for choice in (try? JSONScanner.elements(ofArrayAt: member.value, in: bytes)) ?? [] where choice.kind == .object {
                        recordChoice(at: choice.range, in: bytes)
                    }
                default:
                    continue
                }
            }
        }
    }

    /// Whether the member at `position` is the last with its key.
    private static func isLast(_ position: Int, of members: [JSONMember]) -> Bool {
        let key = members[position].key
        return !members[(position + 1)...].contains { $0.key == key }
    }

    /// A JSON number that is a whole number, as ``JSONValue/intValue`` reads it (`1` or `1.0`).
    private static func wholeNumber(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Int? {
        if let value = JSONScanner.integer(at: range, in: bytes) { return value }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let value = Double(text), value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// Records one choice of a chunk: its finish, and what its `delta` sent.
    private mutating func recordChoice(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) {
        let fields = (try? JSONScanner.members(ofObjectAt: range, in: bytes)) ?? []
        var index = 0
        var delta: Range<Int>?
        for (position, field) in fields.enumerated() where Self.isLast(position, of: fields) {
            switch field.key {
            case "index": index = field.kind == .number ? Self.wholeNumber(at: field.value, in: bytes) ?? 0 : 0
            case "finish_reason" where field.kind != .null:
                finished = true
                if field.kind == .string {
                    // A few distinct reasons, each short: an upstream sending a new one per chunk costs nothing.
                    if finishReasons.count < Self.maximumFinishReasons {
                        let reason = String(JSONScanner.decodeString(at: field.value, in: bytes).prefix(Self.maximumFinishReasonLength))
                        if !finishReasons.contains(reason) { finishReasons.append(reason) }
                    }
                }
            case "delta" where field.kind == .object: delta = field.value
            default: continue
            }
        }
        guard let delta else { return }
        let members = (try? JSONScanner.members(ofObjectAt: delta, in: bytes)) ?? []
        for (position, member) in members.enumerated() where Self.isLast(position, of: members) {
            switch member.kind {
            case _ where member.key == "role", .null:
                continue
            case .string where member.key == "content" && index == 0:
                appendText(JSONScanner.decodeString(at: member.value, in: bytes))
            case .string where member.value.count == 2:
                // "" sends nothing.
                continue
            case .array where ((try? JSONScanner.elements(ofArrayAt: member.value, in: bytes)) ?? [JSONElement]()).isEmpty:
                continue
            default:
                sentOtherThanText = true
            }
        }
    }

    /// Counts `content`'s tokens and keeps it in ``text`` as far as the bound allows.
    private mutating func appendText(_ content: String) {
        var content = content
        content.withUTF8 { textTokens.append(UnsafeRawBufferPointer($0)) }
        guard !isTruncated else { return }
        let room = maximumTextBytes - text.utf8.count
        if content.utf8.count <= room {
            text += content
            return
        }
        // The characters that fit whole; the text then stops growing.
        isTruncated = true
        var fitting = 0
        var end = content.startIndex
        for character in content {
            let size = character.utf8.count
            guard fitting + size <= room else { break }
            fitting += size
            end = content.index(after: end)
        }
        text += content[..<end]
    }

    /// Whether `chunk` only announces the assistant's role (`delta` of `role` and empty content,
    /// no finish, no usage): a continuation's own announcement, which the client must not see twice.
    public static func isRoleAnnouncement(_ chunk: ByteBuffer) -> Bool {
        guard let json = try? JSONValue.parse(chunk), case .object(let object) = json else { return false }
        if let usage = object["usage"], !usage.isNull { return false }
        guard let choices = object["choices"]?.arrayValue, !choices.isEmpty else { return false }
        for choice in choices {
            if let reason = choice["finish_reason"], !reason.isNull { return false }
            guard case .object(let delta) = choice["delta"] else { return false }
            for member in delta.members where member.key != "role" {
                switch member.value {
                case .null: continue
                case .string(let value) where value.isEmpty: continue
                default: return false
                }
            }
        }
        return true
    }

    /// `chunk` with `id` and `created` set to this stream's, so a continuation reads as the same
    /// stream; unchanged when it is not a JSON object or nothing is known yet.
    public func stamping(_ chunk: ByteBuffer) -> ByteBuffer {
        var replacements: [(key: String, value: ByteBuffer)] = []
        if let id { replacements.append((key: "id", value: JSONWriter.encodedString(id))) }
        if let created { replacements.append((key: "created", value: ByteBuffer(string: created))) }
        guard !replacements.isEmpty else { return chunk }
        return chunk.withUnsafeReadableBytes { bytes in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return chunk }
            return JSONObjectRewriter.rewrite(chunk, members: members, replacing: replacements)
        }
    }
}
