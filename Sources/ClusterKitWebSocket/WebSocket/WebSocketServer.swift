/// A WebSocket server (RFC 6455) listening on one TCP address.
///
/// The server binds and listens in its initialiser, then completes handshakes on its own event loop
/// thread; ``accept()`` hands out connections whose handshake is done, with their request path and
/// headers, whatever the path: deciding which paths to serve is the caller's job. Connections beyond
/// ``Options/maximumConnections`` are answered with HTTP 503 and closed. By default only the server's own
/// user (and root) may connect from this host (``Options/localPeers``), and upgrade requests from a web page
/// of another origin get HTTP 403 (``Options/allowsCrossOriginRequests``).
///
/// Call ``shutdown()`` when done: it closes every connection with 1001 `Terminating` and returns once
/// every socket is closed. A server dropped without a shutdown shuts down in the background.
public final class WebSocketServer: Sendable {
    /// The port the server is bound to (the ephemeral one when the options asked for 0).
    public let port: Int
    /// The address literal the server listens on.
    public let host: String

    private let loop: EventLoop
    let shared = ServerShared()

    /// Binds, listens, and starts the server's event loop.
    ///
    /// - Parameter options: Address, limits and timers.
    /// - Throws: ``WebSocketError`` with code `invalidAddress` (host not a literal, port out of range),
    ///   `addressInUse`, `ioError`, `tlsUnavailable` (TLS asked for and OpenSSL 3 cannot be loaded) or `tlsFailed`
    ///   (certificate or key missing or unusable, one of them without the other, a bad cipher list).
    public init(options: Options = .standard) throws {
        let location =
            options.host.contains(":") ? "[\(options.host)]:\(options.port)" : "\(options.host):\(options.port)"
        guard (0...65535).contains(options.port) else {
            throw WebSocketError(.invalidAddress, "invalid port \(options.port)", location: location)
        }
        guard let address = SocketAddress(literal: options.host, port: options.port) else {
            throw WebSocketError(
                .invalidAddress,
                "'\(options.host)' is not an IPv4 or IPv6 address",
                location: location
            )
        }
        let tls: TLSContext?
        do {
            tls = try options.makeTLSContext()
        } catch {
            throw error.located(at: location)
        }
        let descriptor: Int32
        do {
            descriptor = try SocketCalls.listen(on: address, backlog: 128)
        } catch {
            throw error.located(at: address.text)
        }
        let bound = SocketCalls.localAddress(descriptor)
        do {
            loop = try EventLoop(stopsWhenIdle: false)
        } catch {
            _ = closeDescriptor(descriptor)
            throw error.located(at: address.text)
        }
        self.port = bound?.port ?? options.port
        self.host = address.host
        loop.post(.startServer(ServerStart(descriptor: descriptor, shared: shared, options: options, tls: tls)))
    }

    deinit {
        if shared.requestShutdown() { loop.post(.shutdownServer) }
    }

    /// Waits for the next connection whose handshake is complete.
    ///
    /// Connections are queued until taken (at most ``Options/maximumConnections``); frames they receive
    /// meanwhile are buffered within the receive limits.
    ///
    /// - Returns: The connection, or `nil` once the server is shutting down.
    /// - Throws: `CancellationError` when the waiting task is cancelled.
    public func accept() async throws -> WebSocketConnection? {
        try await shared.accept()
    }

    /// The connections, as an asynchronous sequence that ends when the server shuts down.
    public var connections: Connections { Connections(server: self) }

    /// Closes the listening socket and every connection (close code 1001, reason `Terminating`), and
    /// waits until every socket is closed and the event loop has stopped.
    ///
    /// Each close handshake is bounded by the connection options' close timeout. Calling this again
    /// just waits.
    public func shutdown() async {
        if shared.requestShutdown() { loop.post(.shutdownServer) }
        await shared.waitUntilStopped()
    }

    /// Counts from the server's event loop, taken between two of its rounds.
    ///
    /// - Returns: The counts; all zero once the loop has stopped.
    package func statistics() async -> Statistics {
        await withCheckedContinuation { (continuation: CheckedContinuation<Statistics, Never>) in
            if !loop.post(.statistics(continuation)) { continuation.resume(returning: Statistics()) }
        }
    }

    /// What a server's event loop holds, for tests and diagnostics.
    package struct Statistics: Sendable, Hashable {
        /// Every connection the loop holds: in its handshake, open, closing, or being refused.
        package var connections = 0
        /// The connections counted against ``Options/maximumConnections``.
        package var openConnections = 0
        /// The connections being answered with an HTTP error at accept time (503 or 403).
        package var refusingConnections = 0
        /// Bytes of frame and reassembly buffers charged against ``Options/sharedReceiveBufferLimit``.
        package var receiveBufferBytes = 0
        /// Bytes the loop holds for writing that the sockets have not taken yet.
        package var unwrittenBytes = 0
        /// Connections owing a pong they could not queue yet (and not reading meanwhile).
        package var owedPongs = 0

        /// Creates all-zero counts.
        package init() {}
    }

    /// The accepted connections of a server, as an asynchronous sequence.
    public struct Connections: AsyncSequence, Sendable {
        /// The element type: an open connection.
        public typealias Element = WebSocketConnection

        let server: WebSocketServer

        /// Creates the iterator.
        ///
        /// - Returns: An iterator calling ``WebSocketServer/accept()``.
        public func makeAsyncIterator() -> Iterator { Iterator(server: server) }

        /// Calls ``WebSocketServer/accept()`` for each element.
        public struct Iterator: AsyncIteratorProtocol, Sendable {
            let server: WebSocketServer

            /// The next connection, or `nil` after shutdown.
            ///
            /// - Returns: The connection or `nil`.
            /// - Throws: `CancellationError` when the task is cancelled.
            public mutating func next() async throws -> WebSocketConnection? {
                try await server.accept()
            }
        }
    }
}

#if canImport(Glibc)
import Glibc

private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }
#endif
