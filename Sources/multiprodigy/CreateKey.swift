import ArgumentParser
import Foundation
import MultiProdigyAccounting
import MultiProdigyConfig
import MultiProdigyJSON

/// `multiprodigy keys create`: creates a virtual key and prints its secret, once.
struct CreateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a key and print its secret, which is shown this once.",
        discussion: """
            Example: multiprodigy keys create --name team-a --budget 50usd/month --rpm 600 --tpm 200000 --routes auto,cheap

            Budgets are in USD per calendar period in UTC: 10usd/day (from 00:00), 5usd/week (from Monday), 50usd/month \
            (from the 1st), or 100usd for a total that never resets. Requests over the budget get 429 budget_exceeded; \
            over --rpm or --tpm, 429 with Retry-After.
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(name: .long, help: "A name unique among valid keys: letters, digits, '.', '_' and '-' (such as team-a).")
    var name: String

    @Option(name: .long, help: "What the key may spend: 50usd/month, 10usd/day, 5usd/week, or 100usd in total (default: no limit).")
    var budget: String?

    @Option(name: .long, help: "Requests per minute (default: no limit).")
    var rpm: Int?

    @Option(name: .long, help: "Prompt plus completion tokens per minute (default: no limit).")
    var tpm: Int?

    @Option(name: .long, help: "The routes or models the key may ask for, separated by commas, such as auto,cheap (default: all).")
    var routes: String?

    @Option(name: .long, help: "'local' keeps every request of the key on local targets (default: the usual privacy rules).")
    var privacy: String?

    @Flag(name: .long, help: "Print JSON ({\"secret\": …, \"key\": {…}}) instead of text.")
    var json = false

    func validate() throws {
        do {
            try KeyStore.validate(name: name)
            _ = try budget.map(KeyBudget.init(parsing:))
            _ = try routes.map {
                try KeyStore.validate(routes: $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            }
        } catch let error as KeyStoreError {
            throw ValidationError(error.message)
        }
        if let rpm, rpm < 1 { throw ValidationError("--rpm must be at least 1.") }
        if let tpm, tpm < 1 { throw ValidationError("--tpm must be at least 1.") }
        if let privacy, privacy != Locality.local.rawValue {
            throw ValidationError("--privacy '\(privacy)' is not understood; the only value is 'local'.")
        }
    }

    func run() async throws {
        let created: (key: VirtualKey, secret: String)
        do {
            created = try await storage.withDatabase { database in
                try await KeyStore(database: database).create(
                    name: name,
                    budget: budget.map(KeyBudget.init(parsing:)),
                    requestsPerMinute: rpm,
                    tokensPerMinute: tpm,
                    routes: routes.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) },
                    privacy: privacy.flatMap(Locality.init(rawValue:))
                )
            }
        } catch let error as KeyStoreError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let output: JSONValue = ["secret": .string(created.secret), "key": created.key.json]
            print(output.text)
            return
        }
        print(
            """
            Created key '\(created.key.name)' (\(created.key.id)). Its secret:

                \(created.secret)

            Store it now: it will not be shown again (only its hash is kept).
            Clients send it as "Authorization: Bearer <secret>" or "x-api-key: <secret>".

            \(created.key.details)
            """,
            terminator: ""
        )
    }
}
