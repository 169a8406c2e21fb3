import CConcurrencyHooks
import NIOCore
import NIOPosix

/// Makes SwiftNIO's event loops Swift Concurrency's global executor, running each job as a job of
/// the generic executor.
///
/// Request handlers and the upstream clients then share the event-loop threads instead of handing
/// every request back and forth between two thread pools. SwiftNIO's own
/// `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` does
/// the same but runs each job as if isolated to its event loop's serial executor. A task running
/// that way is never on the generic executor, so each hop the compiler emits to it (on entry to a
/// nonisolated async function, and on return to one from a call) cannot continue in place: the task
/// is queued to the loop and waits for the loop's next turn. A chat completion made about 80 such
/// round trips. Running the jobs as the generic executor's, as Swift's default global executor
/// does, makes those hops free; only real suspensions (waiting for the client or the upstream)
/// queue the task, on the loop that woke it.
///
/// ```swift
/// @main enum EntryPoint {
///     static func main() async {
///         EventLoopGlobalExecutor.install()
///         await MultiProdigyCommand.main()
///     }
/// }
/// ```
///
/// - warning: Call it once, from the main thread, before any task is created. It relies on runtime
///   interface rather than API, as SwiftNIO's takeover does: the `swift_task_enqueueGlobal_hook`
///   variable, and the generic executor being the all-zero executor reference. With another hook
///   already installed `install()` returns false and Swift's own global executor runs the jobs; a
///   runtime that changed the reference's layout would need this revisited. The variable is named
///   at link time (`CConcurrencyHooks`), not looked up with `dlsym`: a static executable
///   (`--static-swift-stdlib`, as the Dockerfile builds) does not export the runtime's symbols, and a
///   lookup there silently found nothing.
enum EventLoopGlobalExecutor {
    /// The runtime's type for `swift_task_enqueueGlobal_hook`: the job and the runtime's own enqueue.
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the hook; false when another one is installed.
    @discardableResult
    static func install() -> Bool {
        let slot = UnsafeMutableRawPointer(multiprodigy_enqueueGlobalHookSlot())
        guard slot.load(as: UnsafeRawPointer?.self) == nil else { return false }
        // A thin function is a bare code pointer, the slot's layout.
        slot.storeBytes(of: hook, as: EnqueueGlobalHook.self)
        return true
    }

    private static let hook: EnqueueGlobalHook = { job, _ in enqueue(job) }

    private static func enqueue(_ job: UnownedJob) {
        // `any()` is the calling thread's loop when it is one of the group's: a task resumed by an
        // event loop (its client's or its upstream's) continues on that loop.
        MultiThreadedEventLoopGroup.singleton.any().execute {
            job.runSynchronously(on: genericExecutor)
        }
    }

    /// The generic executor: the executor reference whose identity and implementation are both null.
    private static var genericExecutor: UnownedSerialExecutor {
        unsafeBitCast((0, 0) as (UInt, UInt), to: UnownedSerialExecutor.self)
    }
}
