/// A capability a request may need from a model.
public enum ModelCapability: String, Sendable, Equatable, CaseIterable {
    /// Function calling (`tools`).
    case tools
    /// Image input.
    case vision
    /// JSON mode and `json_schema` output.
    case json
}
