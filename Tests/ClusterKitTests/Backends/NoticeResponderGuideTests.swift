import Foundation
import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime

/// The program of `Docs/notices-guide.md`, against a hub where a participant plays Zeek.
@Suite struct NoticeResponderGuideTests {
    struct NoticeSummary: Codable, Sendable {
        var ts: Date
        var note: String
        var msg: String
        var src: Broker.Address?
    }

    static func respond(to notices: some ClusterBackend, answersOn topic: Topic, limit: Int) async throws -> Int {
        var answered = 0
        for try await notice in notices.events(named: "Site::notice_seen", as: NoticeSummary.self) {
            guard notice.note == "Scan::Port_Scan", let source = notice.src else { continue }
            try await notices.publish(
                "Site::drop_request",
                (source, "port scan: \(notice.msg)", Broker.Timespan(.seconds(3600))),
                to: topic
            )
            answered += 1
            if answered == limit { break }
        }
        return answered
    }

    @Test func theGuidesProgramAnswersEachPortScanAsZeekDeclaresTheEvent() async throws {
        let hub = InMemoryBackend.Hub()
        let zeek = hub.makeBackend(name: "zeek")
        try await zeek.subscribe("site/responses")
        try await zeek.connect()
        let program = hub.makeBackend(name: "program")
        try await program.subscribe("site/notices")
        try await program.connect()

        // Zeek's records as they arrive: vectors of the fields, `none` for an unset &optional field.
        let ts: Broker.Value = .timestamp(Broker.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000))
        let notices: [Broker.Value] = [
            .vector([ts, "SSL::Invalid_Server_Cert", "bad certificate", .none]),
            .vector([ts, "Scan::Port_Scan", "10.0.0.7 scanned 50 ports", .address(Broker.Address(ipv4: 0x0A00_0007))]),
            .vector([ts, "Scan::Port_Scan", "no source", .none]),
        ]
        async let answered = Self.respond(to: program, answersOn: "site/responses", limit: 1)
        for notice in notices {
            try await zeek.publish(Broker.Event("Site::notice_seen", [notice]), to: "site/notices")
        }
        #expect(try await answered == 1)

        var events = zeek.events.makeAsyncIterator()
        let request = try #require(try await events.next())
        #expect(
            request.event
                == Broker.Event(
                    "Site::drop_request",
                    [
                        .address(Broker.Address(ipv4: 0x0A00_0007)), .string("port scan: 10.0.0.7 scanned 50 ports"),
                        .timespan(Broker.Timespan(.seconds(3600))),
                    ]
                )
        )
        // And Zeek would accept it: it fits the script's declaration.
        let declarations = EventDeclarations(
            reading: "module Site; global drop_request: event(src: addr, reason: string, duration: interval);",
            file: "site.zeek"
        )
        #expect(EventCatalog(declarations.signatures).check(request.event) == nil)
        await zeek.close()
        await program.close()
    }
}
