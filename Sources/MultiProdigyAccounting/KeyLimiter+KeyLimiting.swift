/// One process's limiter admits without waiting: its synchronous ``KeyLimiter/admit(_:estimatedTokens:estimatedCostUSD:now:date:)``
/// is the protocol's asynchronous requirement.
extension KeyLimiter: KeyLimiting {}
