import Testing

/// The suites that start private PostgreSQL servers and replica processes, run one suite at a time: each starts
/// several servers and gateways at once, and three such suites together beside the rest of the tests stalled a
/// 2-core machine for seconds, long enough to fail the timing tests (first byte, first token) around them.
@Suite(.serialized) enum PostgresSuites {}
