import ClusterKit
import Foundation
import Testing

/// `zeekctl controller` refusing what its operator did not mean to allow, as `zeek-client` 1.5.0 sees it.
@Suite(.timeLimit(.minutes(2))) struct ControllerHardeningEndToEndTests {
    static let hostileINI = """
        [instances]
        agent-1

        [manager]
        instance = agent-1
        role = manager

        [worker-1]
        instance = agent-1
        role = worker
        env = LD_PRELOAD=./evil.so GOOD=1
        """

    @Test func zeekClientGetsTheStageErrorsAndCanStillDeploy() async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.hostileINI, to: "hostile.ini", in: directory)
            try write(
                Self.hostileINI.replacingOccurrences(of: "LD_PRELOAD=./evil.so ", with: ""),
                to: "fine.ini",
                in: directory
            )
            try await withController { controller in
                let refused = try await ZeekClient.run(
                    ["deploy-config", directory + "/hostile.ini"],
                    port: controller.port
                )
                #expect(refused.status == 1)
                let output = try JSONValue.parse(refused.output)
                #expect(output["errors"] == .array([.string("node 'worker-1' env key 'LD_PRELOAD' is reserved")]))

                let deployed = try await ZeekClient.run(
                    ["deploy-config", directory + "/fine.ini"],
                    port: controller.port
                )
                #expect(deployed.status == 0, "\(deployed.output) \(deployed.error)")
                let value = try await ZeekClient.run(["get-id-value", "Cluster::node"], port: controller.port)
                #expect(value.status == 0)
                #expect(
                    try JSONValue.parse(value.output)["results"]
                        == .object(["manager": .string("manager"), "worker-1": .string("worker-1")])
                )
            }
        }
    }

    @Test func aNonLoopbackListenAddressIsRefused() async throws {
        let run = try await BinaryRunner.run(["controller", "--listen", "0.0.0.0:0"])
        #expect(run.status == 1)
        #expect(
            run.error
                == "error: refusing to listen on '0.0.0.0': not a loopback address, and remote clients are not allowed "
                + "(anyone who can connect can run processes as this user); clients must authenticate there "
                + "(--tls-verify-peer or --token-file), or pass --allow-remote to listen there anyway\n"
        )
        #expect(run.output.isEmpty)
    }
}
