import ArgumentParser
import MultiProdigyAccounting
import MultiProdigyJSON

/// `multiprodigy keys list`: lists virtual keys, never their secrets.
struct ListKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the keys (never their secrets): id, name, secret prefix, budget, limits, routes, privacy, dates."
    )

    @OptionGroup var storage: StorageOptions

    @Flag(name: .long, help: "Include revoked keys.")
    var all = false

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    func run() async throws {
        let keys = try await storage.withDatabase { database in try await KeyStore(database: database).list(includingRevoked: all) }
        if json {
            print(JSONValue.array(keys.map(\.json)).text)
        } else {
            print(VirtualKey.table(keys), terminator: "")
        }
    }
}
