import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyResilience
import MultiProdigyRouting
import NIOCore

/// Reads the usage of an answer and writes its cost into it as `usage.cost_usd`.
public enum CostAnnotation {
    /// A non-streaming answer with `model` rewritten and its cost added.
    public struct PricedCompletion: Sendable {
        /// The answer: `model` set, `usage.cost_usd` added when the cost is known.
        public var body: ByteBuffer
        /// The tokens it used: the upstream's count, or an estimate when it reported none.
        public var usage: TokenUsage
        /// Its cost in USD; nil when the model has no price.
        public var costUSD: Double?

        /// An answer priced by its caller (a native answer, priced from its own usage object).
        public init(body: ByteBuffer, usage: TokenUsage, costUSD: Double?) {
            self.body = body
            self.usage = usage
            self.costUSD = costUSD
        }
    }

    /// Rewrites a `chat.completion` (or embeddings list): `model` becomes `modelName`, and
    /// `usage` gains `cost_usd`. Nil when `body` is not a JSON object.
    ///
    /// - Parameters:
    ///   - price: The answering model's price; nil when unknown, and then no cost is written.
    ///   - estimatedPromptTokens: The prompt size to assume when the upstream reports no usage; the
    ///     answer's size is then estimated from its text.
    public static func pricing(
        _ body: ByteBuffer,
        modelName: String,
        price: ModelPrice?,
        estimatedPromptTokens: Int
    ) -> PricedCompletion? {
        body.withUnsafeReadableBytes { bytes -> PricedCompletion? in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes) else { return nil }
            var replacements = [(key: "model", value: JSONWriter.encodedString(modelName))]
            let usageMember = members.last { $0.key == "usage" && $0.kind == .object }
            let usageFields = usageMember.flatMap { try? JSONScanner.members(ofObjectAt: $0.value, in: bytes) } ?? []
            let reported = TokenUsage.read(fields: usageFields, in: bytes)
            let usage = reported ?? estimate(members: members, bytes: bytes, promptTokens: estimatedPromptTokens)
            let cost = price.map { CostModel.usd(usage, price: $0) }
            if let cost, reported != nil {
                let annotated = JSONObjectRewriter.rewrite(body, members: usageFields, replacing: [(key: "cost_usd", value: number(cost))])
                replacements.append((key: "usage", value: annotated))
            }
            let rewritten = JSONObjectRewriter.rewrite(body, members: members, replacing: replacements)
            return PricedCompletion(body: rewritten, usage: usage, costUSD: cost)
        }
    }

    /// The final usage chunk of a stream with `usage.cost_usd` set to `cost`; the chunk unchanged
    /// when it has no usage object.
    public static func addingCost(_ cost: Double, toUsageChunk chunk: ByteBuffer) -> ByteBuffer {
        chunk.withUnsafeReadableBytes { bytes -> ByteBuffer in
            guard let members = try? JSONScanner.topLevelMembers(of: bytes),
                let usage = members.last(where: { $0.key == "usage" && $0.kind == .object }),
                let fields = try? JSONScanner.members(ofObjectAt: usage.value, in: bytes)
            else { return chunk }
            let annotated = JSONObjectRewriter.rewrite(chunk, members: fields, replacing: [(key: "cost_usd", value: number(cost))])
            return JSONObjectRewriter.rewrite(chunk, members: members, replacing: [(key: "usage", value: annotated)])
        }
    }

    /// `usd` as a JSON number with up to 8 decimals (`0.00001234`), never in exponent notation.
    public static func number(_ usd: Double) -> ByteBuffer {
        ByteBuffer(string: CostFormatting.usd(usd))
    }

    /// An estimate for an answer without `usage`: the given prompt size, and the answer's size from
    /// the text of its `choices`.
    private static func estimate(members: [JSONMember], bytes: UnsafeRawBufferPointer, promptTokens: Int) -> TokenUsage {
        var completion = 0
        if let choices = members.last(where: { $0.key == "choices" }) {
            completion = TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer(rebasing: bytes[choices.value]))
        }
        return TokenUsage(promptTokens: promptTokens, completionTokens: completion, isEstimated: true)
    }
}

extension CostAnnotation {
    /// A stream's final usage chunk made by the gateway, for a stream whose own usage chunk is
    /// missing or covers only part of it (a continued answer): OpenAI's shape, `choices` empty,
    /// with `cost_usd` when known and `"estimated": true` when the counts are the gateway's estimate.
    public static func usageChunk(id: String?, created: String?, model: String, usage: TokenUsage, costUSD: Double?) -> ByteBuffer {
        var chunk = ByteBuffer()
        chunk.writeStaticString("{\"id\":")
        JSONWriter.writeOptionalString(id, into: &chunk)
        chunk.writeStaticString(",\"object\":\"chat.completion.chunk\",\"created\":")
        chunk.writeString(created ?? "0")
        chunk.writeStaticString(",\"model\":")
        JSONWriter.writeString(model, into: &chunk)
        chunk.writeString(
            ",\"choices\":[],\"usage\":{\"prompt_tokens\":\(usage.promptTokens),\"completion_tokens\":\(usage.completionTokens),\"total_tokens\":\(usage.promptTokens + usage.completionTokens)"
        )
        if let costUSD {
            chunk.writeStaticString(",\"cost_usd\":")
            var number = number(costUSD)
            chunk.writeBuffer(&number)
        }
        if usage.isEstimated { chunk.writeStaticString(",\"estimated\":true") }
        chunk.writeStaticString("}}")
        return chunk
    }
}
