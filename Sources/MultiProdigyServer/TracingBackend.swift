import Foundation
import Logging
import MultiProdigyConfig
import OTel
import ServiceLifecycle
import Synchronization
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
        // A collector that does not answer holds an export (and the flush at shutdown) for seconds, not half a
        // minute each: a SIGTERM is not held past a typical grace period.
        configuration.traces.batchSpanProcessor.exportTimeout = .seconds(5)
        configuration.traces.otlpExporter.timeout = .seconds(5)
        // The exporter's own troubles (a collector that is away) go to the gateway's log, whose
        // handler scrubs secrets, at warning and above.
        // swift-otel's own log lines about environment overrides carry the variables' values, which
        // may be a collector's credentials (OTEL_EXPORTER_OTLP_HEADERS): those fields are dropped.
        configuration.diagnosticLogger = .custom(Logger(label: logger.label) { _ in OverrideValueDroppingLogHandler(wrapping: logger) })
        configuration.diagnosticLogLevel = .warning
        if let problem = Self.unsupportedEnvironment(ProcessInfo.processInfo.environment) {
            throw TracingEnvironmentError(description: problem)
        }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        self.tracer = backend.factory
        self.service = backend.service
        // Kept for the life of the process: swift-otel's exporter shuts its HTTP client down
        // synchronously when freed, which traps on an event loop, where the gateway's tasks run.
        Self.retained.withLock { $0.append(self) }
    }

    /// Every backend made, never freed (see ``init(settings:logger:)``).
    private static let retained = Mutex<[TracingBackend]>([])

    /// What in the `OTEL_*` environment swift-otel would stop the process on, or refuse, or that this build
    /// cannot honour; nil when there is nothing. OpenTelemetry's variables override the config; these values
    /// would crash the process at start (a propagator other than `tracecontext`, the gRPC protocol this build
    /// leaves out, a sampler it does not know) or turn tracing off behind the config's back.
    static func unsupportedEnvironment(_ environment: [String: String]) -> String? {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        }
        if let propagators = value("OTEL_PROPAGATORS"), propagators != "tracecontext" {
            return "OTEL_PROPAGATORS=\(propagators): the gateway propagates W3C trace context only; unset it or set it to tracecontext"
        }
        for name in ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] {
            if let protocolName = value(name), protocolName != "http/protobuf" {
                return "\(name)=\(protocolName): this build exports over OTLP/HTTP with protobuf only; unset it or set it to http/protobuf"
            }
        }
        if let exporter = value("OTEL_TRACES_EXPORTER"), exporter != "otlp" {
            return
                "OTEL_TRACES_EXPORTER=\(exporter): the gateway exports over OTLP only; unset it, or turn tracing off with tracing.enabled: false"
        }
        if let disabled = value("OTEL_SDK_DISABLED"), disabled == "true" {
            return "OTEL_SDK_DISABLED=true while tracing.enabled is true: turn tracing off with tracing.enabled: false instead"
        }
        let samplers: Set<String> = [
            "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
        ]
        if let sampler = value("OTEL_TRACES_SAMPLER"), !samplers.contains(sampler) {
            return
                "OTEL_TRACES_SAMPLER=\(sampler): not a sampler this build knows; use tracing.sample_ratio, or one of \(samplers.sorted().joined(separator: ", "))"
        }
        return nil
    }
}

/// An `OTEL_*` environment variable the gateway's tracing cannot run with.
struct TracingEnvironmentError: Error, CustomStringConvertible {
    /// Which variable, and what to do.
    let description: String
}
