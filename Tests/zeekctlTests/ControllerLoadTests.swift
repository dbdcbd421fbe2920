import ClusterKit
import ClusterKitLoad
import Foundation
import Testing

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
