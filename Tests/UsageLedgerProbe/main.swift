// A test helper, not a product: records usage rows as fast as it can and says so after each one,
// so that LedgerDurabilityTests can kill it with SIGKILL at any moment and check that every row
// whose `record` had returned is in the database after it is reopened.
//
//   usage-ledger-probe DATABASE_PATH COUNT [--no-writer]
//
// Prints `recorded N` (with one write(2), unbuffered) after the N-th `record` returns, then `done`,
// and waits to be killed. With --no-writer the group-commit writer is not started, so every row is
// only in the journal when the process dies.
import Foundation
import Logging
import MultiProdigyAccounting

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: usage-ledger-probe DATABASE_PATH COUNT [--no-writer]\n".utf8))
    exit(64)
}
// Lowest CPU priority: the probe saturates the cores while it runs, and the tests running beside it
// in `swift test` measure time.
_ = nice(19)
let database = try await GatewayDatabase.open(path: arguments[1])
// No pause between transactions: the writer commits back to back, so a kill often lands while a
// batch is in flight.
let ledger = try UsageLedger(database: database, logger: Logger(label: "probe"), commitInterval: .zero)
if !arguments.contains("--no-writer") {
    Task.detached { try await ledger.run() }
}
// Off the main actor, so that recording and committing run side by side.
await Task.detached {
    for index in 1...count {
        ledger.record(
            UsageRecord(
                time: Date(),
                requestID: "req_probe_\(index)",
                keyName: index.isMultiple(of: 2) ? "team-a" : nil,
                endpoint: "chat",
                route: "auto",
                provider: "fake",
                model: "small",
                promptTokens: index,
                completionTokens: 1,
                costUSD: 0.001,
                latencySeconds: 0.01,
                timeToFirstTokenSeconds: nil,
                status: 200,
                attempts: 1
            )
        )
        FileHandle.standardOutput.write(Data("recorded \(index)\n".utf8))
        // About 20 000 rows a second at most, leaving the cores to the tests running beside it.
        if index.isMultiple(of: 10) { usleep(500) }
    }
}
.value
FileHandle.standardOutput.write(Data("done\n".utf8))
while true { try await Task.sleep(for: .seconds(60)) }
