import Testing

@testable import MultiProdigyProviders

/// What providers keep across reloads, and what a reload lets go.
@Suite struct ProviderMemoryTests {
    private final class Box: Sendable {
        let tag: String
        init(_ tag: String) { self.tag = tag }
    }

    @Test func aKeyGivesTheSameStateBackAcrossConfigurations() {
        let memory = ProviderMemory()
        memory.beginConfiguration()
        let first = memory.state(for: "gem https://a/v1beta") { Box("made once") }
        memory.forgetStatesNotAskedFor()
        memory.beginConfiguration()
        let again = memory.state(for: "gem https://a/v1beta") { Box("made twice") }
        memory.forgetStatesNotAskedFor()
        #expect(first === again)
        #expect(again.tag == "made once")
    }

    @Test func aRunningConfigurationForgetsWhatOnlyEarlierOnesAskedFor() {
        let memory = ProviderMemory()
        memory.beginConfiguration()
        let kept = memory.state(for: "kept") { Box("kept") }
        _ = memory.state(for: "removed") { Box("removed") }
        memory.forgetStatesNotAskedFor()
        #expect(memory.count == 2)

        // The next configuration has no provider that asks for "removed".
        memory.beginConfiguration()
        #expect(memory.state(for: "kept") { Box("new") } === kept)
        memory.forgetStatesNotAskedFor()
        #expect(memory.count == 1)
        #expect(memory.state(for: "removed") { Box("fresh") }.tag == "fresh")
    }

    @Test func aConfigurationThatFailsToBuildForgetsNothing() {
        let memory = ProviderMemory()
        memory.beginConfiguration()
        _ = memory.state(for: "a") { Box("a") }
        _ = memory.state(for: "b") { Box("b") }
        memory.forgetStatesNotAskedFor()
        // A reload starts, asks for "a" only, and fails before it runs: nothing is forgotten.
        memory.beginConfiguration()
        _ = memory.state(for: "a") { Box("a2") }
        #expect(memory.count == 2)
    }

    @Test func anotherTypeUnderATakenKeyGetsAnUnsharedState() {
        final class Other: Sendable {}
        let memory = ProviderMemory()
        let box = memory.state(for: "k") { Box("box") }
        let other = memory.state(for: "k") { Other() }
        #expect(memory.state(for: "k") { Box("again") } === box)
        #expect(memory.state(for: "k") { Other() } !== other)
    }
}
