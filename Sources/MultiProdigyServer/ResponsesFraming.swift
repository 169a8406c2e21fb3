import MultiProdigyCore
import MultiProdigyFrontDoor
import NIOCore

/// The Responses API's events for an answer streamed through the chat path (``StreamFraming``),
/// storing the final response object before the last event goes out.
struct ResponsesFraming: StreamFraming {
    /// The client's request, whose settings each response object repeats.
    let request: ResponsesRequest
    /// The response's `id`.
    let id: String
    /// When it was created, in seconds since 1970.
    let createdAt: Int
    /// Keeps the final response, when the request asked to store it.
    let saving: ResponseSaving
    /// Made when the stream commits, once the answering model is known.
    private var renderer: ResponsesStreamRenderer?

    init(request: ResponsesRequest, id: String, createdAt: Int, saving: ResponseSaving) {
        self.request = request
        self.id = id
        self.createdAt = createdAt
        self.saving = saving
    }

    mutating func opening(modelName: String, into frame: inout ByteBuffer) {
        var renderer = ResponsesStreamRenderer(request: request, id: id, createdAt: createdAt, model: modelName)
        renderer.start(into: &frame)
        self.renderer = renderer
    }

    mutating func append(_ chunks: [ByteBuffer], into frame: inout ByteBuffer) {
        for chunk in chunks {
            // The relay passes only chunks it has read as JSON objects.
            guard let delta = ChatDelta.read(chunk) else { continue }
            renderer?.render(delta, into: &frame)
        }
    }

    mutating func completion(_ completion: StreamCompletion, into frame: inout ByteBuffer) async {
        guard let response = renderer?.finish(usage: completion.tally.usage, costUSD: completion.tally.costUSD, into: &frame) else {
            return
        }
        await saving.save(response)
    }

    mutating func interruption(_ error: GatewayError, into frame: inout ByteBuffer) async {
        guard let response = renderer?.fail(error, into: &frame) else { return }
        await saving.save(response)
    }
}
