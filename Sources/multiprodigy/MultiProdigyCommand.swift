import ArgumentParser
import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyCore
import MultiProdigyPrivacy
import MultiProdigyServer
import NIOPosix

/// Starts the process: SwiftNIO's event loops become Swift Concurrency's global executor before any
/// task runs, so request handlers and the upstream HTTP client share threads instead of handing
/// every request back and forth between two thread pools (see ``EventLoopGlobalExecutor``).
@main
enum EntryPoint {
    static func main() async {
        EventLoopGlobalExecutor.install()
        await MultiProdigyCommand.main()
    }
}

struct MultiProdigyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiprodigy",
        abstract: "An OpenAI-compatible LLM gateway in front of many providers.",
        discussion: "Clients call it as they would call OpenAI or Anthropic (POST /v1/chat/completions, /v1/responses, /v1/messages, "
            + "/v1/embeddings; GET /v1/models); it routes each request to the providers in the config and fails over between them. "
            + "Prometheus metrics are at /metrics, and a dashboard at /ui (log in with the master key).",
        version: GatewayVersion.current,
        subcommands: [Serve.self, Check.self, ExplainRoute.self, ShowUsage.self, Keys.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the subcommands.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "config/gateway.yaml"

    func load() throws -> GatewayConfig {
        do {
            return try ConfigLoader().load(contentsOf: config)
        } catch {
            FileHandle.standardError.write(Data("\(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway until SIGTERM or SIGINT, then drain in-flight requests and exit.",
        discussion: "SIGHUP, or saving the config file, reloads the configuration: it is validated first, and a file with problems "
            + "leaves the running configuration in place. Requests already running finish under the configuration they started with."
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Listen on HOST:PORT instead of server.listen from the config.")
    var listen: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical (default: $LOG_LEVEL or info).")
    var logLevel: String?

    @Option(
        name: .long,
        help:
            "Log format: text, or json for one JSON object per line and an access-log line per request (default: server.log_format, else text)."
    )
    var logFormat: String?

    func validate() throws {
        if let listen, ListenAddress(parsing: listen) == nil {
            throw ValidationError("--listen '\(listen)' is not HOST:PORT, such as 127.0.0.1:4100 or [::1]:4100.")
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical.")
        }
        if let logFormat, LogFormat(rawValue: logFormat) == nil {
            throw ValidationError("--log-format '\(logFormat)' is not text or json.")
        }
    }

    func run() async throws {
        let level = (logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"]).flatMap(Logger.Level.init(rawValue:)) ?? .info
        // The log handler and the gateway share the secrets of every configuration loaded, so that
        // no log line shows one; the first configuration's are known before anything is logged.
        let secrets = KnownSecrets()
        // The configuration is read (its problems go straight to standard error) before the log
        // system starts, which takes its format from it.
        let config = try options.load()
        secrets.learn(from: config)
        let format = logFormat.flatMap(LogFormat.init(rawValue:)) ?? config.server.logFormat
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, level: level, format: format, secrets: secrets) }
        let logger = Logger(label: "multiprodigy")
        // Where a new task's jobs run, checked rather than assumed (CI and the bench look for these lines).
        if await Task.detached(operation: { MultiThreadedEventLoopGroup.currentEventLoop != nil }).value {
            logger.info("Swift Concurrency runs on the SwiftNIO event loops")
        } else {
            logger.warning(
                "Swift Concurrency runs on its default executor, not on the SwiftNIO event loops: requests hop between thread pools and are slower"
            )
        }
        var gateway = Gateway(config: config, logger: logger)
        gateway.knownSecrets = secrets
        gateway.logFormat = format
        // SIGHUP, or a change to the file, reloads it.
        gateway.configPath = options.config
        try await gateway.run(listenAddress: listen.flatMap(ListenAddress.init(parsing:)))
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and show providers (enabled or why not), models and routes."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print(ConfigSummary(config: config, source: options.config).text)
    }
}
