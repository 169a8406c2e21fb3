import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy

/// The character-class model behind ``TokenEstimator``: one pass over UTF-8 text, in thousandths
/// of a token, without allocating.
///
/// OpenAI's `cl100k_base` and `o200k_base` first split text with a regular expression (letter runs
/// with their leading space, digit groups of up to three, punctuation runs, newline runs, space runs)
/// and then merge bytes inside each piece. The tally follows the same split and charges each piece
/// what it costs on average; the weights were fitted by least squares against both tokenizers (see
/// `bench/tokens/`). Runs are closed at the end of each text, so texts added one after the other
/// count as separate pieces, as the messages of a chat do.
///
/// Text may be the raw contents of a JSON string literal: escapes (`\n`, `\"`, `\uXXXX`, surrogate
/// pairs) count as the characters they stand for.
package struct TokenTally: Equatable {
    /// Creates an empty tally.
    package init() {}

    /// What the weights are expressed in: thousandths of a token, so sums stay exact integers.
    package static let scale = 1000

    // Fitted weights, in thousandths of a token (geometric mean of cl100k and o200k as the target).
    package static let word = 885
    static let letterBeyondSix = 230
    static let capitalizedWord = 430
    static let letterInCapitalsWord = 24
    static let caseChangeInWord = 1400
    static let accentedLetter = 703
    static let greekLetter = 641
    static let cyrillicLetter = 374
    static let hebrewOrArabicLetter = 481
    static let indicOrThaiLetter = 637
    static let hanCharacter = 843
    static let kanaCharacter = 881
    static let hangulCharacter = 887
    static let emoji = 2000
    static let emojiJoiner = 1000
    static let otherSymbol = 1759
    static let digitGroup = 1255
    static let spaceBeforeDigits = 654
    static let punctuationRun = 791
    static let punctuationBeyondFirst = 28
    static let newlineRun = 419
    static let whitespaceRun = 1152

    /// The kind of piece being accumulated.
    private enum Run {
        case none, word, digits, punctuation, spaces, newlines
    }

    /// What the last closed piece was, for the two rules that depend on it.
    private enum Piece {
        /// Newlines right after punctuation join its piece and cost nothing.
        case punctuation
        /// A single space before digits is a piece of its own; before anything else it joins it.
        case singleSpace
        case other
    }

    /// The running total, in thousandths of a token.
    private(set) var milliTokens = 0

    private var run = Run.none
    private var runLength = 0
    private var previousPiece = Piece.other
    private var spacesIncludeTab = false
    private var wordLatinLetters = 0
    private var wordCapitals = 0
    private var wordStartsWithCapital = false
    private var lastLetterWasLowercase = false

    /// The total rounded to whole tokens.
    package var tokens: Int { (milliTokens + Self.scale / 2) / Self.scale }

    /// The total with the piece still open counted as if the text ended here, rounded to whole
    /// tokens: what ``append(_:)``ed text costs so far.
    package var tokensClosingOpenPiece: Int {
        var closed = self
        closed.closeRun()
        return closed.tokens
    }

    /// Adds one text; its last piece is closed, so the next text starts a new one.
    package mutating func add(_ bytes: UnsafeRawBufferPointer) {
        append(bytes)
        closeRun()
        previousPiece = .other
    }

    /// Adds text that continues the text added before it, as a stream's pieces of one answer do:
    /// a word split across two calls counts once. Read the total with ``tokensClosingOpenPiece``.
    ///
    /// Each call must end on a whole UTF-8 character and a whole escape.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        var index = 0
        while index < count {
            var byte = bytes[index]
            if byte & 0x80 == 0 {
                if (byte | 0x20) &- UInt8(ascii: "a") < 26 {
                    // The common case, kept tight in locals: a run of ASCII letters.
                    if run != .word { startWord(withCapital: byte < UInt8(ascii: "a")) }
                    var letters = 0
                    var capitals = 0
                    var caseChanges = 0
                    var lastWasLowercase = lastLetterWasLowercase
                    repeat {
                        let isCapital = byte < UInt8(ascii: "a")
                        if isCapital {
                            capitals &+= 1
                            if lastWasLowercase { caseChanges &+= 1 }
                        }
                        lastWasLowercase = !isCapital
                        letters &+= 1
                        index &+= 1
                        guard index < count else { break }
                        byte = bytes[index]
                    } while (byte | 0x20) &- UInt8(ascii: "a") < 26
                    wordLatinLetters += letters
                    wordCapitals += capitals
                    lastLetterWasLowercase = lastWasLowercase
                    // camelCase splits into pieces of its own in o200k and usually in cl100k.
                    milliTokens += caseChanges * Self.caseChangeInWord
                    continue
                }
                if byte == UInt8(ascii: " "), run != .spaces, index + 1 < count, (bytes[index + 1] | 0x20) &- UInt8(ascii: "a") < 26 {
                    // Shortcut for the most common piece boundary: one space before a word.
                    closeRun()
                    previousPiece = .singleSpace
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "\\") {
                    let scalar = Self.decodeEscape(in: bytes, at: &index)
                    if scalar < 0x80 {
                        addASCII(UInt8(truncatingIfNeeded: scalar))
                    } else {
                        addNonASCII(scalar)
                    }
                    continue
                }
                addASCII(byte)
                index += 1
                continue
            }
            addNonASCII(Self.decodeUTF8(in: bytes, at: &index))
        }
    }

    @inline(__always)
    private mutating func startWord(withCapital: Bool) {
        closeRun()
        run = .word
        wordStartsWithCapital = withCapital
    }

    @inline(__always)
    private mutating func addLetter(isCapital: Bool) {
        wordLatinLetters += 1
        if isCapital {
            wordCapitals += 1
            // camelCase splits into pieces of its own in o200k and usually in cl100k.
            if lastLetterWasLowercase { milliTokens += Self.caseChangeInWord }
        }
        lastLetterWasLowercase = !isCapital
    }

    @inline(__always)
    private mutating func addASCII(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            if run != .word { startWord(withCapital: byte < UInt8(ascii: "a")) }
            addLetter(isCapital: byte < UInt8(ascii: "a"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            extend(.digits)
        case UInt8(ascii: " "):
            extend(.spaces)
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            extend(.newlines)
        case 0..<0x20, 0x7F:
            extend(.spaces)
            spacesIncludeTab = true
        default:
            extend(.punctuation)
        }
    }

    private mutating func addNonASCII(_ scalar: UInt32) {
        switch scalar {
        case 0xC0...0x24F where scalar != 0xD7 && scalar != 0xF7, 0x300...0x36F, 0x1E00...0x1EFF:
            // Accented Latin letters stay inside the word but often cost a piece of their own.
            if run != .word { startWord(withCapital: false) }
            wordLatinLetters += 1
            lastLetterWasLowercase = false
            milliTokens += Self.accentedLetter
        case 0x370...0x3FF: addScriptLetter(costing: Self.greekLetter)
        case 0x400...0x52F: addScriptLetter(costing: Self.cyrillicLetter)
        case 0x530...0x6FF, 0x750...0x77F: addScriptLetter(costing: Self.hebrewOrArabicLetter)
        case 0x900...0xE7F, 0x10A0...0x10FF: addScriptLetter(costing: Self.indicOrThaiLetter)
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FFFF: addCharacter(costing: Self.hanCharacter)
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: addCharacter(costing: Self.kanaCharacter)
        case 0xAC00...0xD7AF, 0x1100...0x11FF, 0x3130...0x318F: addCharacter(costing: Self.hangulCharacter)
        case 0x1F000...0x1FAFF, 0x2600...0x27BF, 0x2B00...0x2BFF, 0xE0000...0xE007F: addCharacter(costing: Self.emoji)
        case 0x200D, 0xFE0E, 0xFE0F: addCharacter(costing: Self.emojiJoiner)
        default: addCharacter(costing: Self.otherSymbol)
        }
    }

    /// Letters of other alphabets join the word; they are charged per letter because both
    /// tokenizers hold far fewer whole words for them than for English.
    private mutating func addScriptLetter(costing cost: Int) {
        if run != .word { startWord(withCapital: false) }
        lastLetterWasLowercase = false
        milliTokens += cost
    }

    private mutating func addCharacter(costing cost: Int) {
        closeRun()
        previousPiece = .other
        milliTokens += cost
    }

    @inline(__always)
    private mutating func extend(_ kind: Run) {
        if run != kind {
            closeRun()
            run = kind
        }
        runLength += 1
    }

    @inline(__always)
    private mutating func closeRun() {
        switch run {
        case .none:
            return
        case .word:
            if wordLatinLetters > 0 {
                milliTokens += Self.word + Self.letterBeyondSix * max(0, wordLatinLetters - 6)
                if wordCapitals == wordLatinLetters && wordLatinLetters > 1 {
                    milliTokens += Self.letterInCapitalsWord * wordLatinLetters
                } else if wordStartsWithCapital {
                    milliTokens += Self.capitalizedWord
                }
            }
            previousPiece = .other
            wordLatinLetters = 0
            wordCapitals = 0
            wordStartsWithCapital = false
            lastLetterWasLowercase = false
        case .digits:
            milliTokens += Self.digitGroup * ((runLength + 2) / 3)
            if previousPiece == .singleSpace { milliTokens += Self.spaceBeforeDigits }
            previousPiece = .other
        case .punctuation:
            milliTokens += Self.punctuationRun + Self.punctuationBeyondFirst * (runLength - 1)
            previousPiece = .punctuation
        case .spaces:
            if runLength > 1 || spacesIncludeTab {
                milliTokens += Self.whitespaceRun
                previousPiece = .other
            } else {
                previousPiece = .singleSpace
            }
            spacesIncludeTab = false
        case .newlines:
            if previousPiece != .punctuation { milliTokens += Self.newlineRun }
            previousPiece = .other
        }
        run = .none
        runLength = 0
    }

    /// Decodes the escape at `index` (a backslash) and moves past it. A malformed escape is read as
    /// the backslash alone, so raw text that merely contains backslashes is still counted.
    private static func decodeEscape(in bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32 {
        guard index + 1 < bytes.count else {
            index += 1
            return UInt32(UInt8(ascii: "\\"))
        }
        let escaped = bytes[index + 1]
        switch escaped {
        case UInt8(ascii: "n"):
            index += 2
            return 0x0A
        case UInt8(ascii: "t"):
            index += 2
            return 0x09
        case UInt8(ascii: "r"):
            index += 2
            return 0x0D
        case UInt8(ascii: "b"):
            index += 2
            return 0x08
        case UInt8(ascii: "f"):
            index += 2
            return 0x0C
        case UInt8(ascii: "u"):
            guard let code = hexQuad(in: bytes, at: index + 2) else {
                index += 1
                return UInt32(UInt8(ascii: "\\"))
            }
            index += 6
            guard (0xD800..<0xDC00).contains(code) else {
                return (0xDC00..<0xE000).contains(code) ? 0xFFFD : code
            }
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                let low = hexQuad(in: bytes, at: index + 2), (0xDC00..<0xE000).contains(low)
            else { return 0xFFFD }
            index += 6
            return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        default:
            // `\"`, `\\`, `\/` stand for the character itself.
            index += 2
            return UInt32(escaped)
        }
    }

    private static func hexQuad(in bytes: UnsafeRawBufferPointer, at start: Int) -> UInt32? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for index in start..<(start + 4) {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Decodes the UTF-8 sequence at `index` (a byte of 0x80 or above) and moves past it; a
    /// malformed or truncated sequence is read as one byte standing for U+FFFD.
    private static func decodeUTF8(in bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32 {
        let lead = bytes[index]
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF:
            length = 3
            scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4:
            length = 4
            scalar = UInt32(lead & 0x07)
        default:
            index += 1
            return 0xFFFD
        }
        guard index + length <= bytes.count else {
            index += 1
            return 0xFFFD
        }
        for offset in 1..<length {
            let continuation = bytes[index + offset]
            guard continuation & 0xC0 == 0x80 else {
                index += 1
                return 0xFFFD
            }
            scalar = scalar << 6 | UInt32(continuation & 0x3F)
        }
        index += length
        return scalar
    }
}
