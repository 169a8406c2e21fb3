// The library's front: `import MultiProdigy` gives an app or an embedder (a custom provider, a
// program that runs a gateway) every layer's public surface, without naming the layers. Inside the
// package each layer imports only the layers below it; see ARCHITECTURE.md.

@_exported import MultiProdigyAccounting
@_exported import MultiProdigyConfig
@_exported import MultiProdigyCore
@_exported import MultiProdigyFrontDoor
@_exported import MultiProdigyJSON
@_exported import MultiProdigyPrivacy
@_exported import MultiProdigyProviders
@_exported import MultiProdigyResilience
@_exported import MultiProdigyRouting
@_exported import MultiProdigyServer
