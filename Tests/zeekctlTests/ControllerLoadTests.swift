import ClusterKit
import ClusterKitLoad
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 12's load suite in its short form: many clients of one `zeekctl controller` process at once, every answer
/// checked (`clusterkit-bench load` is the long form, with 100 clients of 200 requests).
@Suite(.timeLimit(.minutes(2))) struct ControllerLoadTests {
    @Test func everyRequestOfFiftyClientsIsAnsweredOnceOnItsOwnConnection() async throws {
        try await withTemporaryDirectory { directory in
            try write(ControllerLoad.layoutINI, to: "cluster.ini", in: directory)
            try await withController(["--config", directory + "/cluster.ini"]) { controller in
                let options = ControllerLoad.Options(clients: 50, requestsPerClient: 40, inFlight: 10)
                let report = await ControllerLoad.run(
                    url: controller.url,
                    nodes: ControllerLoad.layoutNodes,
                    options: options
                )
                #expect(report.failedClients.isEmpty, "\(report.failedClients.prefix(3))")
                #expect(report.sent == 2000)
                #expect(report.answered == 2000, "\(report.problems.prefix(5))")
                #expect(report.lost == 0 && report.crossed == 0 && report.duplicated == 0)
                #expect(report.incomplete == 0 && report.unexpected == 0)
                // Clients also see the others' requests on the controller topic, as Zeek's clients do, while they
                // are connected (one that finishes early leaves).
                #expect(report.othersRequests > 0 && report.othersRequests <= 2000 * 49)
                let peak = try #require(ControllerLoad.peakResidentMegabytes(of: controller.process.pid))
                #expect(peak < 300, "the controller's peak resident memory is \(peak) MB")
            }
        }
    }
}

/// The load through node processes (`zeekctl controller --processes`, what `zeekctl cluster start` runs), one of
/// which is killed with SIGKILL halfway.
@Suite(.timeLimit(.minutes(2))) struct ProcessLoadTests {
    @Test func aNodeKilledUnderLoadIsNamedInTheAnswersInFlightAndNothingIsLost() async throws {
        try await withTemporaryDirectory { directory in
            try write(ControllerLoad.layoutINI, to: "cluster.ini", in: directory)
            try await withController(["--processes", "--config", directory + "/cluster.ini"]) { controller in
                // Every node process has said hello before the load starts.
                let clock = ContinuousClock()
                let ready = clock.now.advanced(by: .seconds(60))
                var status = try await ClusterEndToEndTests.statusJSON(controller.port)
                while clock.now < ready,
                    status["nodes"]?.objectMembers?.filter({ $0.value["state"] == .string("RUNNING") }).count != 7
                {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await ClusterEndToEndTests.statusJSON(controller.port)
                }
                let victim = try #require(ClusterEndToEndTests.pid(status, "worker-2"))

                let options = ControllerLoad.Options(
                    clients: 20,
                    requestsPerClient: 60,
                    inFlight: 5,
                    // The agent's 5 s deadline plus 1 s, as the issue asks, for every answer from the kill on (the
                    // first requests, on a machine busy with the rest of the suite, took up to 6.4 s).
                    deadline: .seconds(6),
                    fault: ControllerLoad.Fault(afterAnswers: 600, node: "worker-2") { kill(victim, SIGKILL) }
                )
                let report = await ControllerLoad.run(
                    url: controller.url,
                    nodes: ControllerLoad.layoutNodes,
                    options: options
                )
                #expect(report.failedClients.isEmpty, "\(report.failedClients.prefix(3))")
                #expect(report.sent == 1200)
                // Before the kill every node answers; the requests in flight when it dies, and those sent before it
                // is back, carry the six others' values and name worker-2; none is lost, crossed or duplicated.
                #expect(report.answered + report.partial == 1200, "\(report.problems.prefix(5))")
                #expect(report.answered >= 600 && report.partial > 0)
                // The agent learns of the exit from the supervisor and answers for worker-2 at once ("node worker-2
                // is not running: exited on signal 9, restarting in 1 s"), never by waiting for its deadline.
                #expect(report.partialByTimeout == 0, "\(report.problems.prefix(5))")
                #expect(report.lost == 0 && report.crossed == 0 && report.duplicated == 0)
                #expect(
                    report.incomplete == 0 && report.overdue == 0 && report.unexpected == 0,
                    "\(report.problems.prefix(5))"
                )
                #expect(kill(victim, 0) != 0)
                let peak = try #require(ControllerLoad.peakResidentMegabytes(of: controller.process.pid))
                #expect(peak < 300, "the controller's peak resident memory is \(peak) MB")
            }
        }
    }
}

/// Hostile and slow peers beside the load: each is bounded and named by its own limit, and the clients that behave
/// get every answer.
@Suite(.timeLimit(.minutes(2))) struct ControllerHostilePeersTests {
    @Test func slowBrokenAndNonReadingPeersLeaveEveryOtherClientAnswered() async throws {
        try await withTemporaryDirectory { directory in
            try write(ControllerLoad.layoutINI, to: "cluster.ini", in: directory)
            try await withController(["--config", directory + "/cluster.ini"]) { controller in
                // A client that subscribes to the controller topic and never reads: every other client's request
                // comes its way and waits in its queues (how a full queue is cut off is in WebSocketServerTests).
                let nonReader = try await WebSocketClient.connect(to: controller.url)
                try await nonReader.send(text: Broker.JSON.encodeSubscriptions([ControllerAPI.topic.name]))

                // A peer that sends its upgrade request one byte at a time, and one that cuts a frame in half.
                let slow = try RawTCPPeer(port: controller.port)
                let cut = try RawTCPPeer(port: controller.port)
                let request = Array(
                    ("GET /v1/messages/json HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8
                )
                #expect(cut.send(request))
                // A masked text frame declaring 1,000 bytes, of which 10 arrive before the peer goes away.
                #expect(cut.send([0x81, 0xFE, 0x03, 0xE8, 1, 2, 3, 4] + [UInt8](repeating: 0x41, count: 10)))

                let slowTask = Task.detached {
                    var sent = 0
                    for byte in request {
                        guard slow.send([byte]) else { break }
                        sent += 1
                        try? await Task.sleep(for: .milliseconds(250))
                        if sent > 40 { break }
                    }
                    return sent
                }
                let options = ControllerLoad.Options(clients: 20, requestsPerClient: 150, inFlight: 5)
                let report = await ControllerLoad.run(
                    url: controller.url,
                    nodes: ControllerLoad.layoutNodes,
                    options: options
                )
                withExtendedLifetime(cut) {}

                #expect(report.failedClients.isEmpty, "\(report.failedClients.prefix(3))")
                #expect(report.answered == 3000, "\(report.problems.prefix(5))")
                #expect(report.lost == 0 && report.crossed == 0 && report.duplicated == 0 && report.incomplete == 0)

                // The slow peer is dropped at the 5 s handshake limit, long before it finishes its request.
                #expect(slow.isClosedByPeer(within: .seconds(8)))
                #expect(await slowTask.value < request.count)

                // The controller still answers a new client at once.
                let after = await ControllerLoad.run(
                    url: controller.url,
                    nodes: ControllerLoad.layoutNodes,
                    options: ControllerLoad.Options(clients: 1, requestsPerClient: 5, inFlight: 1)
                )
                #expect(after.answered == 5)
                await nonReader.close()
            }
        }
    }
}
