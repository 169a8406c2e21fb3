import Logging
import MultiProdigy

/// Serves the gateway with one custom provider type, `my_model`, registered in Swift.
///
/// Usage: `swift run custom-provider-example [CONFIG] [HOST:PORT]`
/// (default `Examples/CustomProvider/gateway.yaml`, listening where the config says).
@main
enum CustomProviderExample {
    static func main() async throws {
        // The Swift form of `register_llm("my_model", MyModelClient)`: config `type: my_model` now builds one.
        ProviderRegistry.register("my_model") { config, context in
            try MyModelClient(config: config, context: context)
        }
        let arguments = CommandLine.arguments.dropFirst()
        let path = arguments.first ?? "Examples/CustomProvider/gateway.yaml"
        let listen = arguments.dropFirst().first.flatMap(ListenAddress.init(parsing:))
        let config = try ConfigLoader().load(contentsOf: path)
        try await Gateway(config: config, logger: Logger(label: "multiprodigy")).run(listenAddress: listen)
    }
}
