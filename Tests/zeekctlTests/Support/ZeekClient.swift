import Foundation

/// The real `zeek-client` 1.5.0 from PyPI (installed by scripts/setup-zeek-client.sh into
/// `.build/zeek-client-venv`), run as a child process.
enum ZeekClient {
    /// Where it is: `$ZEEK_CLIENT`, else the project's venv, else `nil`.
    static var path: String? {
        if let path = ProcessInfo.processInfo.environment["ZEEK_CLIENT"],
            FileManager.default.isExecutableFile(atPath: path)
        {
            return path
        }
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { directory.deleteLastPathComponent() }  // Tests/zeekctlTests/Support/ZeekClient.swift → root
        let candidate = directory.appendingPathComponent(".build/zeek-client-venv/bin/zeek-client").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// A message for tests when it is missing.
    static let missing = "zeek-client 1.5.0 is not installed: run scripts/setup-zeek-client.sh (scripts/test.sh does)"

    /// Runs `zeek-client --controller 127.0.0.1:PORT ARGUMENTS`, with a short peering retry.
    static func run(_ arguments: [String], port: Int, input: String? = nil) async throws -> ZeekctlBinary.Run {
        guard let path else { throw ZeekClientMissing() }
        var environment = ProcessInfo.processInfo.environment
        environment["ZEEK_CLIENT_CONFIG_FILE"] = "/nonexistent"
        environment.removeValue(forKey: "ZEEK_CLIENT_CONFIG_SETTINGS")
        return try await ZeekctlBinary.run(
            ["--controller", "127.0.0.1:\(port)", "--set", "client.peering_retry_delay_secs=0.2"] + arguments,
            executable: path,
            environment: environment,
            timeout: .seconds(60)
        )
    }

    struct ZeekClientMissing: Error, CustomStringConvertible {
        var description: String { ZeekClient.missing }
    }
}
