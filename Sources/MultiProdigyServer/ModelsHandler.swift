import Hummingbird
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyRouting

/// `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's list format: routes first, then declared
/// models, then the models discovered from enabled providers as `provider/model`.
struct ModelsHandler: Sendable {
    private let configured: [(id: String, owner: String)]
    private let resolver: ModelResolver
    private let discovery: ModelDiscovery
    private let created: Int

    init(config: GatewayConfig, resolver: ModelResolver, discovery: ModelDiscovery, created: Int) {
        self.configured = config.routes.map { ($0.name, "multiprodigy") } + config.models.map { ($0.name, $0.provider) }
        self.resolver = resolver
        self.discovery = discovery
        self.created = created
    }

    /// The list; with `allowed`, only those names (a virtual key's routes).
    func list(allowed: [String]? = nil) async -> Response {
        var seen = Set(configured.map(\.id))
        var list = ByteBuffer()
        list.writeStaticString("{\"object\":\"list\",\"data\":[")
        var first = true
        func append(id: String, owner: String) {
            if let allowed, !allowed.contains(id) { return }
            if !first { list.writeStaticString(",") }
            first = false
            writeEntry(id: id, owner: owner, into: &list)
        }
        for (id, owner) in configured { append(id: id, owner: owner) }
        for (provider, model) in await discovery.models() {
            let id = "\(provider)/\(model)"
            guard seen.insert(id).inserted else { continue }
            append(id: id, owner: provider)
        }
        list.writeStaticString("]}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: list))
    }

    /// One model; with `allowed`, a name outside it is unknown (a virtual key's routes).
    func retrieve(_ id: String, allowed: [String]? = nil) throws -> Response {
        if let allowed, !allowed.contains(id) { throw resolver.notFoundError(for: id) }
        let owner: String
        if let entry = configured.first(where: { $0.id == id }) {
            owner = entry.owner
        } else {
            guard let definition = resolver.definition(for: id), let target = definition.profiles.first?.target else {
                throw resolver.notFoundError(for: id)
            }
            owner = target.providerName
        }
        var buffer = ByteBuffer()
        writeEntry(id: id, owner: owner, into: &buffer)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    private func writeEntry(id: String, owner: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"id\":")
        JSONWriter.writeString(id, into: &buffer)
        buffer.writeString(",\"object\":\"model\",\"created\":\(created),\"owned_by\":")
        JSONWriter.writeString(owner, into: &buffer)
        buffer.writeStaticString("}")
    }
}
