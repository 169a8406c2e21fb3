extension Duration {
    /// The duration in seconds, as latency estimates and the planner work with it.
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
