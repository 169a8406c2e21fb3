import ArgumentParser
import Foundation
import MultiProdigyAccounting
import MultiProdigyConfig

/// Options of the subcommands that use the database: the config whose `storage:` names it, or `--storage`.
struct StorageOptions: ParsableArguments {
    @OptionGroup var configOptions: ConfigOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The database, as sqlite:PATH, a file path or postgres://user:password@host:5432/database, instead of the config's storage: setting (the config is then not read).",
            valueName: "storage"
        )
    )
    var storage: String?

    /// Opens the database (replaying its usage journal, the config's `storage.journal` when the
    /// config is read), runs `body` with it and closes it; a problem opening it is printed and
    /// exits with status 2.
    func withDatabase<T>(_ body: (GatewayDatabase) async throws -> T) async throws -> T {
        var storage = self.storage
        var journal: String?
        if storage == nil {
            let config = try configOptions.load()
            storage = config.storage
            journal = config.storageSettings.journal
        }
        let database: GatewayDatabase
        do {
            database = try await GatewayDatabase.open(storage: storage ?? "", journal: journal)
        } catch {
            FileHandle.standardError.write(Data("\(error.description)\n".utf8))
            throw ExitCode(2)
        }
        do {
            let value = try await body(database)
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}
