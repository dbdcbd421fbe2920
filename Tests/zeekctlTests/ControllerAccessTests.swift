import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension WebSocketMessage {
    /// The message's text (a binary message's bytes as UTF-8).
    fileprivate var text: String {
        switch self {
        case .text(let text): text
        case .binary(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// Who may reach `zeekctl controller`, and how many at once: its access flags end to end.
@Suite(.timeLimit(.minutes(2))) struct ControllerAccessTests {
    /// Whether the tests may run a program as another user (they run as root here, with `setpriv`).
    static var canSwitchUsers: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    /// Runs the built `zeekctl` as the unprivileged user 65534 (`nobody`).
    static func runAsNobody(_ arguments: [String]) async throws -> (status: Int32, output: String, error: String) {
        try await BinaryRunner.run(
            ["--reuid=65534", "--regid=65534", "--clear-groups", ZeekctlBinary.path] + arguments,
            executable: "/usr/bin/setpriv",
            currentDirectory: "/"
        )
    }

    @Test(.enabled(if: ControllerAccessTests.canSwitchUsers))
    func anotherUsersClientIsRefusedUnlessOtherUsersAreAllowed() async throws {
        try await withController { controller in
            let run = try await Self.runAsNobody(["cluster", "status", "--controller", "127.0.0.1:\(controller.port)"])
            #expect(run.status == 1)
            #expect(run.error.contains("403"), "\(run.error)")
            #expect(run.error.contains("connection from another user (uid 65534)"), "\(run.error)")
        }
        try await withController(["--allow-other-users"]) { controller in
            let run = try await Self.runAsNobody(["cluster", "status", "--controller", "127.0.0.1:\(controller.port)"])
            #expect(run.status == 0, "\(run.error)")
        }
    }

    @Test func theClientLimitRefusesTheClientPastItWith1013() async throws {
        try await withController(["--client-limit", "1"]) { controller in
            let first = try await WebSocketClient.connect(to: controller.url)
            try await first.send(text: "[]")
            let ack = try #require(try await first.receive())
            #expect(ack.text.contains("\"ack\""))

            // Refused right after the upgrade, before it could send its subscriptions.
            let second = try await WebSocketClient.connect(to: controller.url)
            let refusal = try #require(try await second.receive())
            #expect(refusal.text.contains("\"connection_limit\""), "\(refusal.text)")
            #expect(refusal.text.contains("too many clients (limit 1)"), "\(refusal.text)")
            _ = try? await second.receive()
            #expect(second.closeInfo?.code == WebSocketCloseCode(rawValue: 1013))
            await first.close()
        }
    }

    @Test func aClientThatSendsNoSubscriptionsIsClosedAtTheSubscriptionTimeout() async throws {
        try await withController(["--subscription-timeout", "0.2"]) { controller in
            let silent = try await WebSocketClient.connect(to: controller.url)
            let error = try #require(try await silent.receive())
            #expect(error.text.contains("\"subscription_timeout\""), "\(error.text)")
            _ = try? await silent.receive()
            #expect(silent.closeInfo?.code == .policyViolation)
        }
    }

    @Test func aRemoteListenAddressNeedsTheOptIn() async throws {
        let controller = try await RunningController.start(["--allow-remote"], listen: "0.0.0.0:0")
        #expect(controller.url.hasPrefix("ws://0.0.0.0:"))
        #expect(await controller.stop() == 0)
    }

    @Test(arguments: [
        ["--client-limit", "0"], ["--node-limit", "-1"], ["--client-limit", "1e3"],
        ["--subscription-timeout", "1e16"], ["--subscription-timeout", "0"], ["--max-event-queue-size", "-1"],
        ["--max-event-queue-size", "1000001"],
    ])
    func badAccessLimitsAreUsageErrors(arguments: [String]) async throws {
        let run = try await BinaryRunner.run(["controller"] + arguments)
        #expect(run.status == 64)
        #expect(run.error.hasPrefix("error: invalid value '\(arguments[1])' for '\(arguments[0])'"), "\(run.error)")
    }

    /// `cluster start` and `supervisor` pass the queue size on to their controller, and check it as it does.
    @Test(arguments: [["cluster", "start"], ["supervisor", "--state-dir", "/nonexistent"]])
    func aBadEventQueueSizeIsAUsageErrorOfClusterStartAndSupervisor(command: [String]) async throws {
        let run = try await BinaryRunner.run(command + ["--max-event-queue-size", "-1"])
        #expect(run.status == 64)
        #expect(run.error.hasPrefix("error: invalid value '-1' for '--max-event-queue-size'"), "\(run.error)")
    }

    /// Zeek's max_event_queue_size at its smallest: every client event waits until the controller has taken the one
    /// before, and requests are still answered.
    @Test func aControllerWithAnEventQueueOfOneStillAnswers() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try await withController(["--max-event-queue-size", "1", "--layout", directory + "/node.cfg"]) {
                controller in
                let run = try await BinaryRunner.run(
                    ["dispatch", "get_id_value", "Cluster::node", "--controller", "127.0.0.1:\(controller.port)"]
                )
                #expect(run.status == 0, "\(run.error)")
            }
        }
    }

    @Test func aLayoutTheControllerWouldRefuseToStageStopsTheStart() async throws {
        try await withTemporaryDirectory { directory in
            try write(preloadingNodeCfg, to: "node.cfg", in: directory)
            let run = try await BinaryRunner.run(
                ["controller", "--listen", "127.0.0.1:0", "--layout", directory + "/node.cfg"]
            )
            #expect(run.status == 1)
            #expect(
                run.error.contains("node.cfg:9: error: node 'worker-1' env key 'LD_PRELOAD' is reserved"),
                "\(run.error)"
            )
            #expect(run.error.hasSuffix("node.cfg: not starting: the configuration has errors\n"), "\(run.error)")
            #expect(run.output.isEmpty)
        }
    }
}
