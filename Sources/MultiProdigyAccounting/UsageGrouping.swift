import MultiProdigyJSON

/// What a usage summary groups rows by.
public enum UsageGrouping: String, CaseIterable, Sendable {
    /// The virtual key's name (rows without a key form one group).
    case key
    /// The declared model that answered.
    case model
    /// The provider that answered.
    case provider
    /// The client's `model` as asked: route, model or `provider/model`.
    case route
    /// The front-door API the request came through: `chat`, `responses`, `messages`, `embeddings`.
    case api

    /// The `usage` column holding the group.
    var column: String {
        switch self {
        case .key: "key_name"
        case .model: "model"
        case .provider: "provider"
        case .route: "route"
        case .api: "endpoint"
        }
    }
}
