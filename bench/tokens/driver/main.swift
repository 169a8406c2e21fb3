// Runs TokenEstimator outside the package, for bench/tokens/measure.py and speed measurement.
// Compiled by estimate.sh with swiftc -O together with the estimator's and the JSON scanner's
// sources, so it needs neither the package's dependencies nor changes to Package.swift.
//
//   driver text FILE       each line a JSON string literal; prints one estimate per line
//   driver requests FILE   each line a chat request body; prints one prompt estimate per line
//   driver speed TEXT REQ  ns per KB of TEXT (a plain UTF-8 file) and ns per request of REQ (one body)
import Foundation

func lines(of path: String) -> [[UInt8]] {
    guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
    return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map { Array($0) }
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "" {
case "text":
    for line in lines(of: arguments[2]) {
        let estimate = line.withUnsafeBytes { bytes in
            TokenEstimator.estimateTokens(inText: UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)]))
        }
        print(estimate)
    }
case "requests":
    for line in lines(of: arguments[2]) {
        let estimate = line.withUnsafeBytes { bytes in
            let members = try! JSONScanner.topLevelMembers(of: bytes)
            return TokenEstimator.estimatePromptTokens(ofRequestBody: bytes, members: members)
        }
        print(estimate)
    }
case "speed":
    let text = Array(FileManager.default.contents(atPath: arguments[2])!)
    let request = Array(FileManager.default.contents(atPath: arguments[3])!)
    let clock = ContinuousClock()
    var sink = 0
    let textRounds = 20_000
    let textTime = text.withUnsafeBytes { bytes in
        clock.measure {
            for _ in 0..<textRounds { sink &+= TokenEstimator.estimateTokens(inText: bytes) }
        }
    }
    let members = request.withUnsafeBytes { try! JSONScanner.topLevelMembers(of: $0) }
    let requestRounds = 200_000
    let requestTime = request.withUnsafeBytes { bytes in
        clock.measure {
            for _ in 0..<requestRounds { sink &+= TokenEstimator.estimatePromptTokens(ofRequestBody: bytes, members: members) }
        }
    }
    let perKB = nanoseconds(textTime) / Double(textRounds) / (Double(text.count) / 1024)
    let perRequest = nanoseconds(requestTime) / Double(requestRounds)
    print("text: \(text.count) bytes, \(String(format: "%.0f", perKB)) ns per KB")
    print("request: \(request.count) bytes, \(String(format: "%.0f", perRequest)) ns per request")
    print("checksum \(sink)")
default:
    print("usage: driver text FILE | requests FILE | speed TEXT REQUEST")
}
