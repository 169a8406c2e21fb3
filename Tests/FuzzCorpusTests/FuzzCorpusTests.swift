import Foundation
import MultiProdigyFuzzTargets
import Testing

/// Every fuzz target's checked-in corpus (`Fuzz/corpus/NAME`), replayed through the target: the seeds
/// and every input a past run found or kept still pass, without libFuzzer.
@Suite struct FuzzCorpusTests {
    /// The repository's `Fuzz/corpus` folder.
    static let corpusRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.all.map(\.name))
    func everyCorpusInputKeepsItsProperty(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let folder = Self.corpusRoot.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!files.isEmpty, "Fuzz/corpus/\(name) holds no seeds")
        for file in files {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            do {
                try data.withUnsafeBytes { try target.check($0) }
            } catch {
                Issue.record("Fuzz/corpus/\(name)/\(file): \(error)")
            }
        }
    }

    @Test func everyTargetHasACorpusFolderAndNoFolderLacksATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpusRoot.path).sorted()
        #expect(folders == FuzzTarget.all.map(\.name).sorted())
    }
}
