import Logging
import MultiProdigyConfig
import OTel
import ServiceLifecycle
import Tracing

/// The OpenTelemetry tracer of a gateway whose `tracing.enabled` is true, and the service that
/// exports its spans over OTLP/HTTP (protobuf) in batches.
///
/// The tracer is handed to the gateway's runtime, not bootstrapped into the process-wide
/// `InstrumentationSystem`: a process may run several gateways (the tests do), and with tracing
/// off no tracer exists at all, so a request pays one nil check. The sampler is parent-based: a
/// client's sampled `traceparent` is traced, a not-sampled one is not, and a request without one
/// is traced with probability `sample_ratio`. OpenTelemetry's standard `OTEL_*` environment
/// variables (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_TRACES_SAMPLER`, ...) override the
/// configuration, as in every OpenTelemetry SDK.
///
/// ```swift
/// let backend = try TracingBackend(settings: config.tracing, logger: logger)
/// // run backend.service in the service group; give backend.tracer to the runtime
/// ```
struct TracingBackend {
    /// Starts spans; its spans are exported by ``service``.
    let tracer: any Tracer
    /// Exports ended spans in batches, and flushes them at shutdown: stop it after the server.
    let service: any Service

    /// Creates the tracer and exporter for `settings`.
    ///
    /// - Throws: swift-otel's configuration error when the exporter cannot be built (an endpoint
    ///   it does not accept).
    init(settings: TracingSettings, logger: Logger) throws {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = settings.endpoint
        configuration.traces.sampler = .parentBasedTraceIDRatio(ratio: settings.sampleRatio) ?? .parentBasedAlwaysOn
        configuration.propagators = [.traceContext]
        // The exporter's own troubles (a collector that is away) go to the gateway's log, whose
        // handler scrubs secrets, at warning and above.
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        self.tracer = backend.factory
        self.service = backend.service
    }
}
