import ClusterKit
import Foundation
import Testing

/// `zeekctl controller --declare FILE.zeek`: a client's own events through the controller's hub.
@Suite(.timeLimit(.minutes(2))) struct ControllerDeclareTests {
    @Test func aDeclaredEventPassesTheHubAndAnUndeclaredOneIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            try write(
                "module Site;\nexport {\n    global add_rule: event(id: string, priority: int &default=0);\n}\n",
                to: "site.zeek",
                in: directory
            )
            try await withController(["--declare", directory + "/site.zeek"]) { controller in
                let sender = try await WebSocketClient.connect(to: controller.url)
                let receiver = try await WebSocketClient.connect(to: controller.url)
                for client in [sender, receiver] {
                    try await client.send(text: Broker.JSON.encodeSubscriptions(["site/"]))
                    _ = try await client.receive()  // the ack
                }
                let undeclared = Broker.Event("Site::other", ["x"])
                try await sender.send(
                    text: Broker.JSON.encode(.data(.init(topic: "site/rules", event: undeclared)))
                )
                guard case .text(let refusal)? = try await sender.receive() else {
                    Issue.record("no answer to an undeclared event")
                    return
                }
                #expect(refusal.contains("failed to create Zeek event"))
                let declared = Broker.Event("Site::add_rule", ["r1"])
                try await sender.send(text: Broker.JSON.encode(.data(.init(topic: "site/rules", event: declared))))
                guard case .text(let text)? = try await receiver.receive(),
                    case .data(let data)? = try? Broker.JSON.decodeMessage(text)
                else {
                    Issue.record("the declared event did not arrive")
                    return
                }
                #expect(try Broker.Event(data.value) == declared)
                await sender.close()
                await receiver.close()
            }
        }
    }

    @Test func aDeclarationThatCannotBeReadStopsTheStartNamingFileAndLine() async throws {
        try await withTemporaryDirectory { directory in
            try write("global ok: event(a: count);\nglobal bad: event(a: strng);\n", to: "bad.zeek", in: directory)
            let run = try await BinaryRunner.run(
                ["controller", "--listen", "127.0.0.1:0", "--declare", "bad.zeek"],
                currentDirectory: directory
            )
            #expect(run.status == 1)
            #expect(
                run.error.contains(
                    "error: bad.zeek:2: cannot read the declaration of event 'bad': unknown type 'strng'"
                ),
                "\(run.error)"
            )
            #expect(run.output.isEmpty)
        }
    }
}
