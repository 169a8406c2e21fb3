/// The gateway's release version: what `multiprodigy --version` prints and `/metrics` reports as
/// `multiprodigy_build_info{version="…"}`.
///
/// One constant, so the two cannot disagree; bump it when a release is cut.
public enum GatewayVersion {
    /// The version, such as `0.1.0`.
    public static let current = "0.1.0"
}
