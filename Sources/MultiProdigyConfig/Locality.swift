/// Where a provider runs, which decides whether private prompts may go to it.
public enum Locality: String, Sendable, Equatable, CaseIterable {
    /// On infrastructure you control (Ollama, TGI, vLLM on your machines).
    case local
    /// A third party's service.
    case cloud
}
