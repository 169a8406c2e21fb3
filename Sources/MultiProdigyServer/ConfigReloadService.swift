import Foundation
import Logging
import MultiProdigyConfig
import MultiProdigyJSON
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP and when its file changes: the new file is validated, its
/// runtime built, and only then swapped in; a file with problems leaves the running configuration
/// in place and logs every problem.
///
/// Requests already running finish under the runtime they started with, so a reload drops none.
/// `server.listen` and `resilience.health_check.interval` take effect at the next start only.
///
/// Its description names the file only: swift-service-lifecycle logs every service it starts and
/// stops as `"\(service)"`, and the default description would print ``environment``, every
/// variable of the process, secrets included.
struct ConfigReloadService: Service, CustomStringConvertible {
    let path: String
    let box: RuntimeBox
    let shared: GatewayRuntime.Shared
    let environment: [String: String]
    /// How often the file's modification time is checked.
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in hangups {
                        logger.notice("SIGHUP: reloading \(path)")
                        reload()
                    }
                }
                group.addTask {
                    var lastContents = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
                    var lastModified = Self.modificationDate(of: path)
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pollInterval)
                        let modified = Self.modificationDate(of: path)
                        guard modified != lastModified else { continue }
                        lastModified = modified
                        // A touch without a change is not a reload.
                        guard let contents = try? Data(contentsOf: URL(fileURLWithPath: path)), contents != lastContents else { continue }
                        lastContents = contents
                        logger.notice("\(path) changed: reloading")
                        reload()
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// Loads, validates and swaps in the file's configuration; keeps the running one on any problem.
    func reload() {
        let config: GatewayConfig
        do {
            config = try ConfigLoader(environment: environment).load(contentsOf: path)
        } catch {
            logger.error("the new configuration was not applied; the gateway keeps running the previous one. \(error.description)")
            return
        }
        let previous = box.current
        do {
            box.replace(with: try GatewayRuntime.make(config: config, shared: shared, previous: previous))
        } catch {
            logger.error("the new configuration was not applied; the gateway keeps running the previous one: \(error)")
            return
        }
        if config.server.listen != previous.config.server.listen {
            logger.warning("server.listen changed to \(config.server.listen); it takes effect at the next start")
        }
        if config.server.logFormat != previous.config.server.logFormat {
            logger.warning("server.log_format changed to \(config.server.logFormat.rawValue); it takes effect at the next start")
        }
        if config.tracing != previous.config.tracing {
            logger.warning("tracing changed; it takes effect at the next start")
        }
        logger.notice(
            "configuration reloaded: \(config.providers.filter(\.isEnabled).count) providers enabled, \(config.models.count) models, \(config.routes.count) routes"
        )
    }

    /// `ConfigReloadService(path: …)`, without the environment.
    var description: String { "ConfigReloadService(path: \(path))" }

    private static func modificationDate(of path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
