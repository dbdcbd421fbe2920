import ClusterKit
import Foundation

/// The folder holding the test fixtures (`Tests/ClusterKitTests/Fixtures`, copied as a resource).
let fixturesURL: URL = {
    let base = Bundle.module.resourceURL ?? Bundle.module.bundleURL
    return base.appendingPathComponent("Fixtures")
}()

/// The text of a fixture file, given relative to the fixtures folder; empty when the file is missing.
func fixture(_ path: String) -> String {
    (try? String(contentsOf: fixturesURL.appendingPathComponent(path), encoding: .utf8)) ?? ""
}

/// A Boolean value indicating whether a fixture file exists.
func fixtureExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: fixturesURL.appendingPathComponent(path).path)
}

/// The names of the entries of a fixture folder, sorted.
func fixtureEntries(_ folder: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: fixturesURL.appendingPathComponent(folder).path))
    return (names ?? []).sorted()
}

/// The fixtures' resolver and machine: `localhost` is 127.0.0.1; local addresses are those of the
/// machine the ZeekControl fixtures were made on.
let fixtureResolver = StaticHostResolverFixture.resolver
let fixtureLocalAddresses = ["127.0.0.1", "::1", "10.0.0.1", "2001:db8::1"]

enum StaticHostResolverFixture {
    static let resolver = StaticHostResolver(["localhost": ["127.0.0.1", "::1"]])
}
