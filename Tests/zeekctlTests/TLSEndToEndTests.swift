import ClusterKit
import Foundation
import Testing
import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// The checked-in test certificates (Tests/ClusterKitTests/Fixtures/tls, made by scripts/make-test-certificates.sh)
/// and the Python peers of scripts/tls-test-peer.py.
enum TLSPeers {
    static let root: String = {
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { directory.deleteLastPathComponent() }  // Tests/zeekctlTests/TLSEndToEndTests.swift → root
        return directory.path
    }()

    static func certificate(_ name: String) -> String { root + "/Tests/ClusterKitTests/Fixtures/tls/" + name }

    /// The venv's Python, next to zeek-client.
    static var python: String? {
        guard let zeekClient = ZeekClient.path else { return nil }
        return (zeekClient as NSString).deletingLastPathComponent + "/python"
    }

    static let serverArguments = [
        "--tls-certificate", certificate("server.pem"), "--tls-key", certificate("server.key"),
    ]

    /// zeek-client's settings for TLS that verifies the controller and presents the test client certificate.
    static let verifyingZeekClient = [
        "--set", "ssl.enable=true", "--set", "ssl.cafile=\(certificate("ca.pem"))",
        "--set", "ssl.certificate=\(certificate("client.pem"))", "--set", "ssl.keyfile=\(certificate("client.key"))",
    ]

    /// Writes a token file with `mode`.
    static func tokenFile(_ token: String, mode: mode_t = 0o600, in directory: String) throws -> String {
        let path = directory + "/token"
        try write(token + "\n", to: "token", in: directory)
        chmod(path, mode)
        return path
    }
}

/// Serialized: each test starts several processes (controllers, node processes, zeek-client, Python), and all at once
/// they would load a small machine enough to starve the rest of the suite's handshake deadlines.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TLSEndToEndTests {
    // MARK: - zeek-client 1.5.0 against zeekctl controller

    @Test func zeekClientVerifiesTheControllerWithItsCA() async throws {
        guard ZeekClient.path != nil else {
            Issue.record(Comment(rawValue: ZeekClient.missing))
            return
        }
        try await withController(TLSPeers.serverArguments) { controller in
            #expect(controller.url.hasPrefix("wss://127.0.0.1:"))
            let instances = try await ZeekClient.run(
                TLSPeers.verifyingZeekClient + ["get-instances"],
                port: controller.port
            )
            #expect(instances.status == 0, "\(instances.error)")
            #expect(try JSONValue.parse(instances.output) == .object([:]))
            // Trusting another CA, zeek-client refuses the controller.
            let wrongCA = TLSPeers.verifyingZeekClient.map {
                $0.hasPrefix("ssl.cafile=") ? "ssl.cafile=\(TLSPeers.certificate("other-ca.pem"))" : $0
            }
            let refused = try await ZeekClient.run(
                wrongCA + ["--set", "client.peering_attempts=1", "get-instances"],
                port: controller.port
            )
            #expect(refused.status != 0)
            #expect(refused.error.contains("CERTIFICATE_VERIFY_FAILED"), "\(refused.error)")
        }
    }

    @Test func zeekClientInItsUnverifiedModeIsServed() async throws {
        guard ZeekClient.path != nil else {
            Issue.record(Comment(rawValue: ZeekClient.missing))
            return
        }
        try await withController(TLSPeers.serverArguments) { controller in
            let nodes = try await ZeekClient.run(["--set", "ssl.enable=true", "get-nodes"], port: controller.port)
            #expect(nodes.status == 1)
            #expect(
                try JSONValue.parse(nodes.output)["errors"]
                    == .array([.object(["error": .string("no instances connected"), "source": .null])])
            )
            // A plain zeek-client on the TLS port gets nowhere, and the controller stays up.
            let plain = try await ZeekClient.run(
                ["--set", "client.peering_attempts=1", "get-instances"],
                port: controller.port
            )
            #expect(plain.status != 0)
            let again = try await ZeekClient.run(["--set", "ssl.enable=true", "get-instances"], port: controller.port)
            #expect(again.status == 0, "\(again.error)")
        }
    }

    @Test func aControllerVerifyingPeersServesOnlyClientsWithCertificates() async throws {
        guard ZeekClient.path != nil else {
            Issue.record(Comment(rawValue: ZeekClient.missing))
            return
        }
        let arguments =
            TLSPeers.serverArguments + ["--tls-verify-peer", "--tls-ca", TLSPeers.certificate("ca.pem")]
        try await withController(arguments) { controller in
            let withCertificate = try await ZeekClient.run(
                TLSPeers.verifyingZeekClient + ["get-instances"],
                port: controller.port
            )
            #expect(withCertificate.status == 0, "\(withCertificate.error)")
            let without = try await ZeekClient.run(
                ["--set", "ssl.enable=true", "--set", "client.peering_attempts=1", "get-instances"],
                port: controller.port
            )
            #expect(without.status != 0)
            // zeekctl's own client: refused without a certificate, served with one.
            let address = "wss://127.0.0.1:\(controller.port)"
            let refused = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--tls-ca", TLSPeers.certificate("ca.pem")]
            )
            #expect(refused.status == 1)
            #expect(refused.error.contains("tlsv13 alert certificate required"), "\(refused.error)")
            let served = try await ZeekctlBinary.run(
                [
                    "dispatch", "get_id_value", "Cluster::node", "--controller", address, "--tls-ca",
                    TLSPeers.certificate("ca.pem"), "--tls-certificate", TLSPeers.certificate("client.pem"),
                    "--tls-key", TLSPeers.certificate("client.key"), "--format", "json",
                ]
            )
            #expect(served.status == 1)
            #expect(served.output.contains("no cluster deployed"), "\(served.output) \(served.error)")
        }
    }

    @Test func oldTLSVersionsAreRefused() async throws {
        guard let python = TLSPeers.python else {
            Issue.record(Comment(rawValue: ZeekClient.missing))
            return
        }
        try await withController(TLSPeers.serverArguments) { controller in
            for version in ["1.0", "1.1"] {
                let run = try await ZeekctlBinary.run(
                    [TLSPeers.root + "/scripts/tls-test-peer.py", "old-tls-client", "\(controller.port)", version],
                    executable: python
                )
                #expect(run.output.hasPrefix("refused: "), "TLS \(version): \(run.output) \(run.error)")
            }
        }
    }

    // MARK: - zeekctl's client

    @Test func zeekctlVerifiesTheControllerAndSaysWhyItRefusesOne() async throws {
        try await withController(TLSPeers.serverArguments) { controller in
            let address = "wss://127.0.0.1:\(controller.port)"
            let trusted = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--tls-ca", TLSPeers.certificate("ca.pem")]
            )
            #expect(trusted.status == 0, "\(trusted.error)")
            let untrusted = try await ZeekctlBinary.run(["cluster", "status", "--controller", address])
            #expect(untrusted.status == 1)
            #expect(
                untrusted.error.hasPrefix(
                    "error: \(address)/v1/messages/json: certificate verify failed: "
                ),
                "\(untrusted.error)"
            )
            let insecure = try await ZeekctlBinary.run(["cluster", "status", "--controller", address, "--tls-insecure"])
            #expect(insecure.status == 0, "\(insecure.error)")
            #expect(insecure.error.hasPrefix("warning: --tls-insecure: the server's certificate is not verified"))
            let plainOptions = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", "127.0.0.1:\(controller.port)", "--tls-insecure"]
            )
            #expect(plainOptions.status == 64)
        }
    }

    @Test func aTLSClientOfAPlainControllerIsToldAtOnceAndTheControllerLogsIt() async throws {
        try await withController(["--verbose"]) { controller in
            async let logged = controller.process.firstLine(where: { $0.contains("refused with 400") })
            let address = "wss://127.0.0.1:\(controller.port)"
            let run = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--tls-ca", TLSPeers.certificate("ca.pem")]
            )
            #expect(run.status == 1)
            #expect(
                run.error
                    == "error: \(address)/v1/messages/json: TLS handshake failed: the server answered in plain HTTP "
                    + "('HTTP/1.1 400 Bad Request'), so it does not use TLS: connect with ws://\n",
                "\(run.error)"
            )
            let line = await logged
            #expect(
                line?.hasSuffix(
                    "refused with 400 Bad Request: TLS handshake on a server without TLS: connect with ws://, not wss://"
                )
                    == true,
                "\(line ?? "no line")"
            )
            // zeek-client with TLS on gets its answer at once too (Python's ssl: WRONG_VERSION_NUMBER), not after the
            // controller's handshake limit.
            if ZeekClient.path != nil {
                let zeekClient = try await ZeekClient.run(
                    ["--set", "ssl.enable=true", "--set", "client.peering_attempts=1", "get-instances"],
                    port: controller.port
                )
                #expect(zeekClient.status != 0)
            }
        }
    }

    @Test func zeekctlTalksToAPythonWebSocketsServerOverTLS() async throws {
        guard let python = TLSPeers.python else {
            Issue.record(Comment(rawValue: ZeekClient.missing))
            return
        }
        for (certificate, key, expectedError) in [
            ("server.pem", "server.key", nil),
            ("wrong-host.pem", "wrong-host.key", "certificate verify failed: IP address mismatch"),
        ] {
            let server = try ChildProcess(
                python,
                [
                    TLSPeers.root + "/scripts/tls-test-peer.py", "echo-server", TLSPeers.certificate(certificate),
                    TLSPeers.certificate(key),
                ]
            )
            guard let line = await server.firstLine(where: { $0.hasPrefix("port ") }) else {
                await server.terminate(signal: SIGKILL)
                Issue.record("the Python server did not start: \(server.errorOutput)")
                return
            }
            let url = "wss://127.0.0.1:\(line.dropFirst(5))/"
            let options = WebSocketClient.Options(tls: .init(caFile: TLSPeers.certificate("ca.pem")))
            do {
                let connection = try await WebSocketClient.connect(to: url, options: options)
                try await connection.send(text: "over TLS")
                #expect(try await connection.receive() == .text("over TLS"))
                let large = [UInt8](repeating: 0x5A, count: 1 << 20)
                try await connection.send(binary: large)
                #expect(try await connection.receive() == .binary(large))
                await connection.close()
                #expect(expectedError == nil)
            } catch let error as WebSocketError {
                #expect(error.code == .tlsFailed)
                #expect(error.message == expectedError)
            }
            if let expectedError {
                let run = try await ZeekctlBinary.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--websocket", url, "--tls-ca",
                        TLSPeers.certificate("ca.pem"),
                    ]
                )
                #expect(run.status == 1)
                #expect(run.error.contains(expectedError), "\(run.error)")
            }
            // The test process may have SIGTERM blocked, and a spawned peer inherits that.
            await server.terminate(signal: SIGKILL)
        }
    }

    // MARK: - Tokens

    @Test func aTokenFileGuardsTheController() async throws {
        try await withTemporaryDirectory { directory in
            let token = try TLSPeers.tokenFile("s3cret-token.1", in: directory)
            try await withController(["--token-file", token]) { controller in
                let address = "127.0.0.1:\(controller.port)"
                let without = try await ZeekctlBinary.run(["cluster", "status", "--controller", address])
                #expect(without.status == 1)
                #expect(without.error.contains("401"), "\(without.error)")
                #expect(without.error.contains("missing bearer token"), "\(without.error)")
                let with = try await ZeekctlBinary.run(
                    ["cluster", "status", "--controller", address, "--token-file", token]
                )
                #expect(with.status == 0, "\(with.error)")
                try FileManager.default.createDirectory(
                    atPath: directory + "/other",
                    withIntermediateDirectories: true
                )
                let wrong = try TLSPeers.tokenFile("other", in: directory + "/other")
                let wrongRun = try await ZeekctlBinary.run(
                    ["cluster", "status", "--controller", address, "--token-file", wrong]
                )
                #expect(wrongRun.status == 1)
                #expect(wrongRun.error.contains("wrong bearer token"), "\(wrongRun.error)")
            }
        }
    }

    @Test func aTokenFileOthersCanReadIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let token = try TLSPeers.tokenFile("s3cret", mode: 0o644, in: directory)
            let run = try await ZeekctlBinary.run(["controller", "--listen", "127.0.0.1:0", "--token-file", token])
            #expect(run.status == 1)
            #expect(run.error == "error: token file '\(token)': mode 0644 lets other users at it (use chmod 600)\n")
        }
    }

    @Test func authenticationAllowsANonLoopbackListenAddress() async throws {
        try await withTemporaryDirectory { directory in
            let token = try TLSPeers.tokenFile("s3cret", in: directory)
            let controller = try await RunningController.start(["--token-file", token], listen: "0.0.0.0:0")
            #expect(controller.url.hasPrefix("ws://0.0.0.0:"))
            #expect(await controller.stop() == 0)
        }
    }

    @Test func nodeProcessesJoinTheirHubOverTLSWithTheToken() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let token = try TLSPeers.tokenFile("hub-token", in: directory)
            let arguments =
                TLSPeers.serverArguments + [
                    "--tls-ca", TLSPeers.certificate("ca.pem"), "--token-file", token, "--processes", "--layout",
                    directory + "/node.cfg",
                ]
            try await withController(arguments) { controller in
                let run = try await ZeekctlBinary.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller",
                        "wss://127.0.0.1:\(controller.port)", "--tls-ca", TLSPeers.certificate("ca.pem"),
                        "--token-file", token, "--format", "json",
                    ]
                )
                #expect(run.status == 0, "\(run.output) \(run.error)")
                #expect(try JSONValue.parse(run.output)["results"]?["manager"] == .string("manager"))
            }
        }
    }

    /// Mutual TLS (`--tls-verify-peer`): the node processes present the client certificate of `--tls-node-certificate`
    /// and join; `zeekctl` with a client certificate reaches them through the controller.
    @Test func nodeProcessesJoinAHubThatVerifiesPeersWithTheirOwnCertificate() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let arguments =
                TLSPeers.serverArguments + [
                    "--tls-ca", TLSPeers.certificate("ca.pem"), "--tls-verify-peer", "--tls-node-certificate",
                    TLSPeers.certificate("client.pem"), "--tls-node-key", TLSPeers.certificate("client.key"),
                    "--processes", "--layout", directory + "/node.cfg",
                ]
            try await withController(arguments) { controller in
                let run = try await ZeekctlBinary.run(
                    [
                        "dispatch", "get_id_value", "Cluster::node", "--controller",
                        "wss://127.0.0.1:\(controller.port)", "--tls-ca", TLSPeers.certificate("ca.pem"),
                        "--tls-certificate", TLSPeers.certificate("client.pem"), "--tls-key",
                        TLSPeers.certificate("client.key"), "--format", "json",
                    ]
                )
                #expect(run.status == 0, "\(run.output) \(run.error)")
                #expect(try JSONValue.parse(run.output)["results"]?["manager"] == .string("manager"))
            }
        }
    }

    /// The controller's own certificate is for servers only: the nodes could not present it, and the controller says
    /// so at start instead of starting nodes that cannot join.
    @Test func aNodeCertificateTheHubWouldRefuseStopsTheStart() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = try await ZeekctlBinary.run(
                ["controller", "--listen", "127.0.0.1:0"] + TLSPeers.serverArguments + [
                    "--tls-ca", TLSPeers.certificate("ca.pem"), "--tls-verify-peer", "--processes", "--layout",
                    directory + "/node.cfg",
                ]
            )
            #expect(run.status == 1)
            #expect(
                run.error
                    == "error: node processes could not join the hub over TLS: the server refuses the client's "
                    + "certificate: certificate verify failed: unsuitable certificate purpose (they present the "
                    + "controller's certificate; give them one for client authentication with --tls-node-certificate "
                    + "and --tls-node-key)\n",
                "\(run.error)"
            )
            let usage = try await ZeekctlBinary.run(
                ["controller"] + TLSPeers.serverArguments + [
                    "--tls-node-certificate", TLSPeers.certificate("client.pem"), "--tls-node-key",
                    TLSPeers.certificate("client.key"),
                ]
            )
            #expect(usage.status == 64)
            #expect(usage.error.contains("need '--processes' and '--tls-verify-peer'"), "\(usage.error)")
        }
    }

    @Test func clusterStartServesMutualTLSAndStatusAndStopPresentCertificates() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let port = try await ClusterEndToEndTests.freePort()
            let node = [
                "--tls-node-certificate", TLSPeers.certificate("client.pem"), "--tls-node-key",
                TLSPeers.certificate("client.key"),
            ]
            let start = try await ZeekctlBinary.run(
                [
                    "cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/state",
                    "--tls-ca", TLSPeers.certificate("ca.pem"), "--tls-verify-peer",
                ] + TLSPeers.serverArguments + node,
                currentDirectory: directory
            )
            try #require(start.status == 0, "\(start.output)\(start.error)")
            let controllerPID = try #require(ClusterEndToEndTests.controllerPID(start.output))
            defer { if LocalCluster.processExists(controllerPID) { kill(pid_t(controllerPID), SIGTERM) } }
            let address = "wss://127.0.0.1:\(port)"
            let access = [
                "--tls-ca", TLSPeers.certificate("ca.pem"), "--tls-certificate", TLSPeers.certificate("client.pem"),
                "--tls-key", TLSPeers.certificate("client.key"),
            ]
            let status = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--format", "json"] + access
            )
            #expect(status.status == 0, "\(status.error)")
            #expect(try JSONValue.parse(status.output)["nodes"]?["manager"]?["state"] == .string("RUNNING"))
            let stop = try await ZeekctlBinary.run(["cluster", "stop", "--controller", address] + access)
            #expect(stop.status == 0, "\(stop.error)")
        }
    }

    @Test func clusterStartServesTLSWithATokenAndStatusAndStopUseThem() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let token = try TLSPeers.tokenFile("cluster-token", in: directory)
            let port = try await ClusterEndToEndTests.freePort()
            let access = ["--tls-ca", TLSPeers.certificate("ca.pem"), "--token-file", token]
            let start = try await ZeekctlBinary.run(
                ["cluster", "start", "--listen", "127.0.0.1:\(port)", "--state-dir", directory + "/state"]
                    + TLSPeers.serverArguments + access,
                currentDirectory: directory
            )
            try #require(start.status == 0, "\(start.output)\(start.error)")
            let controllerPID = try #require(ClusterEndToEndTests.controllerPID(start.output))
            defer { if LocalCluster.processExists(controllerPID) { kill(pid_t(controllerPID), SIGTERM) } }
            #expect(start.output.contains("listening on wss://127.0.0.1:\(port)/v1/messages/json"))
            let address = "wss://127.0.0.1:\(port)"
            let withoutToken = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--tls-ca", TLSPeers.certificate("ca.pem")]
            )
            #expect(withoutToken.status == 1)
            #expect(withoutToken.error.contains("missing bearer token"), "\(withoutToken.error)")
            let status = try await ZeekctlBinary.run(
                ["cluster", "status", "--controller", address, "--format", "json"] + access
            )
            #expect(status.status == 0, "\(status.error)")
            #expect(try JSONValue.parse(status.output)["nodes"]?["manager"]?["state"] == .string("RUNNING"))
            let stop = try await ZeekctlBinary.run(["cluster", "stop", "--controller", address] + access)
            #expect(stop.status == 0, "\(stop.error)")
        }
    }

    @Test func tlsUsageErrors() async throws {
        let onlyCertificate = try await ZeekctlBinary.run(
            ["controller", "--tls-certificate", TLSPeers.certificate("server.pem")]
        )
        #expect(onlyCertificate.status == 64)
        #expect(onlyCertificate.error.contains("cert_file set without key_file"))
        let verifyWithoutTLS = try await ZeekctlBinary.run(["controller", "--tls-verify-peer"])
        #expect(verifyWithoutTLS.status == 64)
        let missingLibrary = try await ZeekctlBinary.run(
            ["controller", "--listen", "127.0.0.1:0"] + TLSPeers.serverArguments,
            environment: ["PATH": "/usr/bin:/bin", "CLUSTERKIT_LIBSSL": "/nonexistent/libssl.so.3"]
        )
        #expect(missingLibrary.status == 1)
        #expect(missingLibrary.error.contains("TLS needs OpenSSL 3: cannot load /nonexistent/libssl.so.3"))
    }
}
