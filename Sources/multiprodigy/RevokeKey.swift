import ArgumentParser
import Foundation
import MultiProdigyAccounting

/// `multiprodigy keys revoke`: revokes a virtual key.
struct RevokeKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a key by name or id: requests with it are refused from then on, also by a running gateway.",
        discussion: "The key stays listed by 'multiprodigy keys list --all', and its name can be given to a new key."
    )

    @OptionGroup var storage: StorageOptions

    @Argument(help: "The key's name (team-a) or id (key_ab12cd34).")
    var nameOrID: String

    func run() async throws {
        do {
            let key = try await storage.withDatabase { database in try await KeyStore(database: database).revoke(nameOrID: nameOrID) }
            print("Revoked key '\(key.name)' (\(key.id), \(key.prefix)…).")
        } catch let error as KeyStoreError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
