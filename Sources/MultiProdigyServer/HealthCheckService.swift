import Logging
import MultiProdigyAccounting
import MultiProdigyJSON
import MultiProdigyPrivacy
import MultiProdigyProviders
import MultiProdigyResilience
import MultiProdigyCore
import NIOCore
import ServiceLifecycle

/// Probes the enabled local providers every `resilience.health_check.interval`, so a dead local
/// backend is known before a request needs it (failover then skips it, and `/ready` reports it).
///
/// Cloud providers are not probed: they fail over on real traffic. Transitions are logged once.
/// Each round asks `providers` afresh, so a reloaded configuration is probed from the next round.
struct HealthCheckService: Service, CustomStringConvertible {
    let providers: @Sendable () -> [(name: String, provider: any LLMProvider)]
    let board: ProviderHealthBoard
    let interval: Duration
    /// A probe's detail may quote the upstream's error text; it is scrubbed before `/ready` or
    /// the log shows it.
    let secrets: KnownSecrets
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await checkAll()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// `HealthCheckService(interval: …)`: the service lifecycle logs services by their description.
    var description: String { "HealthCheckService(interval: \(interval))" }

    /// How long one probe may take. Independent of the interval: a short interval must not turn a
    /// slow but healthy provider into a failed check.
    static let probeTimeout: Duration = .seconds(5)

    /// Probes every provider once, concurrently, each within ``probeTimeout``.
    func checkAll() async {
        let deadline = NIODeadline.now() + Self.probeTimeout.timeAmount
        await withTaskGroup(of: Void.self) { group in
            for (name, provider) in providers() {
                group.addTask {
                    guard var probe = await provider.probe(deadline: deadline, logger: logger) else { return }
                    probe.detail = probe.detail.map(secrets.scrubber.scrub)
                    let previous = board.record(probe, for: name)
                    if probe.isHealthy, previous?.isHealthy == false {
                        logger.notice("provider '\(name)' is healthy again")
                    } else if !probe.isHealthy, previous?.isHealthy != false {
                        logger.warning(
                            "provider '\(name)' failed its health check: \(probe.detail ?? "no detail"); requests skip it while others can answer"
                        )
                    }
                }
            }
        }
    }
}
