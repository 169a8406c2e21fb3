import Testing

/// Suites run one at a time, each test of each in turn: the three that start private PostgreSQL servers and replica
/// processes, and the timing suites (first byte, first token, stalls, deadlines) that failed beside them. On a
/// 2-core machine, the PostgreSQL suites running beside the timing ones delayed requests to local fakes by more than
/// a second, longer than the limits those tests measure; kept apart, each measures what it means to.
@Suite(.serialized) enum OneSuiteAtATime {}
