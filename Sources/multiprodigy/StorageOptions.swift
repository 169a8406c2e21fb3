import ArgumentParser
import Foundation
import MultiProdigy

/// Options of the subcommands that use the database: the config whose `storage:` names it, or `--storage`.
struct StorageOptions: ParsableArguments {
    @OptionGroup var configOptions: ConfigOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The database, as sqlite:PATH or a file path, instead of the config's storage: setting (the config is then not read).",
            valueName: "storage"
        )
    )
    var storage: String?

    /// Opens the database (replaying its usage journal); a problem is printed and exits with status 2.
    func openDatabase() throws -> GatewayDatabase {
        let storage = try self.storage ?? configOptions.load().storage
        do {
            return try GatewayDatabase.open(storage: storage)
        } catch {
            FileHandle.standardError.write(Data("\(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
