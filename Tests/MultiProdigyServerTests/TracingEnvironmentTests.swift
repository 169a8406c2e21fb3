import Logging
import Synchronization
import Testing

@testable import MultiProdigyConfig
@testable import MultiProdigyServer

/// What of OpenTelemetry's environment the gateway's tracing refuses to start with, what it logs of its
/// endpoint, and what swift-otel's diagnostics may write.
@Suite struct TracingEnvironmentTests {
    @Test(
        arguments: [
            ([:], nil),
            (["OTEL_PROPAGATORS": "tracecontext"], nil),
            (["OTEL_PROPAGATORS": "tracecontext,baggage"], "OTEL_PROPAGATORS"),
            (["OTEL_PROPAGATORS": "b3"], "OTEL_PROPAGATORS"),
            (["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], "OTEL_EXPORTER_OTLP_PROTOCOL"),
            (["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"], "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
            (["OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"], nil),
            (["OTEL_TRACES_EXPORTER": "console"], "OTEL_TRACES_EXPORTER"),
            (["OTEL_TRACES_EXPORTER": "otlp"], nil),
            (["OTEL_SDK_DISABLED": "true"], "OTEL_SDK_DISABLED"),
            (["OTEL_SDK_DISABLED": "false"], nil),
            (["OTEL_TRACES_SAMPLER": "xray"], "OTEL_TRACES_SAMPLER"),
            (["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5"], nil),
            (["OTEL_SERVICE_NAME": "elsewhere", "OTEL_PROPAGATORS": " "], nil),
        ] as [([String: String], String?)]
    )
    func theEnvironmentIsCheckedBeforeSwiftOTelReadsIt(environment: [String: String], refused: String?) {
        let problem = TracingBackend.unsupportedEnvironment(environment)
        #expect(problem?.hasPrefix(refused ?? "-") ?? (refused == nil), "\(String(describing: problem))")
    }

    @Test func theEndpointIsLoggedWithoutCredentials() {
        #expect(
            TracingSettings.loggable("https://user:s3cret@otlp.example:4318/v1/traces?api-key=k") == "https://…@otlp.example:4318/v1/traces"
        )
        #expect(TracingSettings.loggable("http://127.0.0.1:4318/v1/traces") == "http://127.0.0.1:4318/v1/traces")
        #expect(TracingSettings.loggable("http://host/p@th") == "http://host/p@th", "an @ in the path is no user information")
    }

    @Test func swiftOTelsDiagnosticsLoseTheValuesTheyQuote() {
        let lines = RecordedLines()
        let recorder = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        var logger = Logger(label: "otel") { _ in OverrideValueDroppingLogHandler(wrapping: recorder) }
        logger.logLevel = .trace
        logger.info("overridden", metadata: ["environment_value": "Authorization=Bearer sk-secret"])
        logger.warning(
            "malformed",
            metadata: ["environment_value": "Authorization: Bearer sk-secret", "key": "OTEL_EXPORTER_OTLP_HEADERS"]
        )
        let written = lines.all.withLock { $0 }
        #expect(written.count == 1, "below warning is dropped, whatever level swift-otel asks for")
        #expect(written.first?.2["environment_value"] == nil)
        #expect(written.first?.2["key"] == "OTEL_EXPORTER_OTLP_HEADERS")
    }
}

/// The lines a ``RecordingLogHandler`` kept.
private final class RecordedLines: Sendable {
    let all = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])
}

/// Keeps what is logged through it.
private struct RecordingLogHandler: LogHandler {
    let lines: RecordedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.all.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
    }
}
