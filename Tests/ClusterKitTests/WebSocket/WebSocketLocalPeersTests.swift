import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Only the server's own user (and root) may connect from this host.
///
/// The peers are small Python programs, run as another user with `setpriv` (which needs root, as the tests
/// run here) or as the test's own user.
@Suite(.enabled(if: LocalPeerProgram.isAvailable))
struct WebSocketLocalPeersTests {
    @Test(arguments: [WebSocketServer.PeerOwnerSources.netlink, .proc, .all])
    func connectionFromAnotherUserGets403(sources: WebSocketServer.PeerOwnerSources) async throws {
        try await withServer(serverOptions { $0.peerOwnerSources = sources }) { server in
            let answer = try await LocalPeerProgram.upgrade(port: server.port, asUser: 65534)
            #expect(answer.statusLine == "HTTP/1.1 403 Forbidden")
            #expect(answer.body == "connection from another user (uid 65534)")
            #expect(await server.statistics().openConnections == 0)
        }
    }

    @Test(arguments: [WebSocketServer.PeerOwnerSources.netlink, .proc])
    func connectionFromTheSameUserIsServed(sources: WebSocketServer.PeerOwnerSources) async throws {
        try await withServer(serverOptions { $0.peerOwnerSources = sources }) { server in
            let answer = try await LocalPeerProgram.upgrade(port: server.port, asUser: nil)
            #expect(answer.statusLine == "HTTP/1.1 101 Switching Protocols")
        }
    }

    @Test func anyUserPolicyServesOtherUsers() async throws {
        try await withServer(serverOptions { $0.localPeers = .anyUser }) { server in
            let answer = try await LocalPeerProgram.upgrade(port: server.port, asUser: 65534)
            #expect(answer.statusLine == "HTTP/1.1 101 Switching Protocols")
        }
    }

    @Test func ownerThatCannotBeFoundIsRefused() async throws {
        try await withServer(serverOptions { $0.peerOwnerSources = [] }) { server in
            let peer = try await RawPeer.connect(port: server.port)
            try await peer.write(RawPeer.upgradeRequest())
            let response = try await peer.readHTTPResponse()
            #expect(response.statusLine == "HTTP/1.1 403 Forbidden")
            #expect(response.body == "owner of the connection could not be determined: operation not supported")
        }
    }

    @Test func connectionsOverIPv6LoopbackAreCheckedToo() async throws {
        try await withServer(serverOptions { $0.host = "::1" }) { server in
            let other = try await LocalPeerProgram.upgrade(port: server.port, host: "::1", asUser: 65534)
            #expect(other.body == "connection from another user (uid 65534)")
            let same = try await LocalPeerProgram.upgrade(port: server.port, host: "::1", asUser: nil)
            #expect(same.statusLine == "HTTP/1.1 101 Switching Protocols")
        }
    }
}

/// A Python peer that connects, sends an upgrade request and prints the answer's status line and body.
enum LocalPeerProgram {
    static let python = "/usr/bin/python3"
    static let setpriv = "/usr/bin/setpriv"

    /// Whether the programs exist and the tests may switch users (they run as root).
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python) && FileManager.default.isExecutableFile(atPath: setpriv)
            && geteuid() == 0
    }

    private static let script = """
        import socket, sys
        host, port = sys.argv[1], int(sys.argv[2])
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((host, port))
        s.sendall(b"GET / HTTP/1.1\\r\\nHost: " + host.encode() + b"\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\\r\\n\\r\\n")
        length = 0
        for line in head.split(b"\\r\\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
        sys.stdout.write(head.split(b"\\r\\n")[0].decode() + "\\n" + body.decode())
        """

    /// Runs the peer as `uid` (with `setpriv`), or as the test's own user when `nil`.
    static func upgrade(
        port: Int,
        host: String = "127.0.0.1",
        asUser uid: Int?
    ) async throws -> (statusLine: String, body: String) {
        var arguments = ["-c", script, host, String(port)]
        var program = python
        if let uid {
            program = setpriv
            arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", python] + arguments
        }
        let output = try await run(program, arguments)
        let lines = output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(lines.first ?? ""), lines.count > 1 ? String(lines[1]) : "")
    }

    /// Runs a program to its end (at most 30 s) and returns its standard output (through a file, so that no
    /// pipe end can be left open).
    private static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("local-peer-\(UUID())")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: file) }
        // Readable by the peer's user, who writes through the descriptor it inherits.
        let handle = try FileHandle(forWritingTo: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        try? handle.close()
        let finished = await finishes(within: .seconds(30)) {
            for await _ in exited.stream { return }
        }
        if !finished, process.isRunning { process.terminate() }
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }
}
