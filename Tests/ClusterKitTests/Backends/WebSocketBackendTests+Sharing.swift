import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

extension WebSocketBackendTests {
    // MARK: - Commands sharing one handshake

    @Test func publishConnectAndSubscribeDuringAReconnectionShareItsHandshake() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let backend = WebSocketBackend(url: url, options: .init(reconnect: .standard), clock: clock, log: log.sink)
            try await backend.subscribe("zeek/")
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            _ = try await first.receive()
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            await first.close(code: .goingAway, reason: "Terminating")

            async let next = nextEvent(backend)
            await log.next(containing: "in 1 s (attempt 1 of 10)")
            // While the reader waits out the delay: a change goes into the coming handshake at once, and a
            // publication and a connect wait for it.
            try await backend.subscribe("late/")
            async let publishing: Void = backend.publish(ping(1), to: "zeek/a")
            async let reconnecting: Void = backend.connect()
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let second = try #require(try await server.accept())
            #expect(try await second.receive() == .text(#"["zeek/","late/"]"#))
            try await second.send(text: Self.ack("fake-1"))
            try await publishing
            try await reconnecting
            #expect(try await receiveEvent(second) == TopicEvent(topic: "zeek/a", event: ping(1)))
            try await second.send(text: dataFrame("late/b", ping(2)))
            #expect(try await next == TopicEvent(topic: "late/b", event: ping(2)))
            #expect(backend.diagnostics.connections == 2)
            #expect(backend.diagnostics.reconnectAttempts == 1)
            await backend.close()
        }
    }

    @Test func aCancelledReaderLeavesTheReconnectionToTheNextUser() async throws {
        try await Self.withFakeZeek { server, url in
            let clock = ManualClock()
            let log = LogLines()
            let backend = WebSocketBackend(url: url, options: .init(reconnect: .standard), clock: clock, log: log.sink)
            async let connecting: Void = backend.connect()
            let first = try #require(try await server.accept())
            _ = try await first.receive()
            try await first.send(text: Self.ack("fake-0"))
            try await connecting
            await first.close(code: .goingAway, reason: "Terminating")

            let read = await withTaskGroup(of: TopicEvent?.self) { group in
                group.addTask { try? await nextEvent(backend) }
                await log.next(containing: "in 1 s (attempt 1 of 10)")
                await clock.waitForSleepers(1)
                group.cancelAll()
                return await group.next() ?? nil
            }
            #expect(read == nil, "a cancelled reader ends")
            #expect(clock.sleepers() == 0, "and its delay with it")

            // The next to need the connection starts over from the first attempt.
            async let publishing: Void = backend.publish(ping(1), to: "t")
            #expect(await log.next(containing: "reconnecting") == "reconnecting to \(url) in 1 s (attempt 1 of 10)")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let second = try #require(try await server.accept())
            _ = try await second.receive()
            try await second.send(text: Self.ack("fake-1"))
            try await publishing
            #expect(try await receiveEvent(second) == TopicEvent(topic: "t", event: ping(1)))
            await backend.close()
        }
    }

    @Test func closingWhileTheAckIsAwaitedClosesThatConnection() async throws {
        try await Self.withFakeZeek { server, url in
            let backend = WebSocketBackend(url: url)
            async let connecting: Void = backend.connect()
            let accepted = try #require(try await server.accept())
            _ = try await accepted.receive()
            await backend.close()
            do {
                try await connecting
                Issue.record("connected after close()")
            } catch let error as BackendError {
                #expect(error == BackendError(.closed, "endpoint is closed", endpoint: url))
            }
            #expect(try await accepted.receive() == nil, "the client closed the connection")
        }
    }
}
