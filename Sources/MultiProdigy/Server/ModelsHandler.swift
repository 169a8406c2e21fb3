import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's list format: routes first, then declared models.
struct ModelsHandler: Sendable {
    private let listBody: ByteBuffer
    private let entries: [String: ByteBuffer]
    private let resolver: ModelResolver
    private let created: Int

    init(config: GatewayConfig, resolver: ModelResolver, created: Int) {
        var entries: [String: ByteBuffer] = [:]
        var list = ByteBuffer()
        list.writeStaticString("{\"object\":\"list\",\"data\":[")
        var first = true
        let owners = config.routes.map { ($0.name, "multiprodigy") } + config.models.map { ($0.name, $0.provider) }
        for (id, owner) in owners {
            let entry = Self.entry(id: id, owner: owner, created: created)
            entries[id] = entry
            if !first { list.writeStaticString(",") }
            first = false
            list.writeImmutableBuffer(entry)
        }
        list.writeStaticString("]}")
        self.listBody = list
        self.entries = entries
        self.resolver = resolver
        self.created = created
    }

    func list() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: listBody))
    }

    func retrieve(_ id: String) throws -> Response {
        if let entry = entries[id] {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: entry))
        }
        guard let plan = resolver.plan(for: id), let target = plan.targets.first else { throw resolver.notFoundError(for: id) }
        let entry = Self.entry(id: id, owner: target.providerName, created: created)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: entry))
    }

    private static func entry(id: String, owner: String, created: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"id\":")
        JSONWriter.writeString(id, into: &buffer)
        buffer.writeString(",\"object\":\"model\",\"created\":\(created),\"owned_by\":")
        JSONWriter.writeString(owner, into: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }
}
