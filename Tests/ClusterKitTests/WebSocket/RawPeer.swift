import ClusterKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the raw test peer.
struct RawPeerError: Error, CustomStringConvertible {
    var description: String
}

/// Runs blocking socket work on a thread of its own, so tests never block the cooperative pool.
///
/// Only the raw peer uses this; it stands for a misbehaving remote program, written with plain blocking
/// sockets. Every blocking call has a 10 s socket timeout as a guard against a hung test, not as a wait.
func onHelperThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
        let job = HelperJob { continuation.resume(with: Result { try body() }) }
        let argument = Unmanaged.passRetained(job).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread,
            nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<HelperJob>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            },
            argument
        )
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<HelperJob>.fromOpaque(argument).release()
            continuation.resume(throwing: RawPeerError(description: "pthread_create failed"))
        }
    }
}

private final class HelperJob: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

/// A raw TCP client for feeding a WebSocket server exact bytes and reading exact bytes back.
final class RawPeer: Sendable {
    private let descriptor: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let isClosed = Mutex(false)

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close()
    }

    /// Connects to the server on loopback.
    static func connect(port: Int, host: String = "127.0.0.1", receiveBufferSize: Int32? = nil) async throws -> RawPeer
    {
        let descriptor = try await onHelperThread { () throws -> Int32 in
            let isV6 = host.contains(":")
            let descriptor = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw RawPeerError(description: "socket failed") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if var size = receiveBufferSize {
                setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            let status: Int32
            if isV6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = UInt16(port).bigEndian
                inet_pton(AF_INET6, host, &address.sin6_addr)
                status = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = UInt16(port).bigEndian
                inet_pton(AF_INET, host, &address.sin_addr)
                status = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            guard status == 0 else {
                Glibc.close(descriptor)
                throw RawPeerError(description: "connect failed: \(errno)")
            }
            return descriptor
        }
        return RawPeer(descriptor: descriptor)
    }

    /// Connects and completes a valid upgrade handshake.
    static func connectWebSocket(
        port: Int,
        path: String = "/",
        receiveBufferSize: Int32? = nil
    ) async throws
        -> RawPeer
    {
        let peer = try await connect(port: port, receiveBufferSize: receiveBufferSize)
        try await peer.write(Self.upgradeRequest(path: path))
        let response = try await peer.readHTTPResponse()
        guard response.statusLine == "HTTP/1.1 101 Switching Protocols" else {
            throw RawPeerError(description: "handshake failed: \(response.statusLine)")
        }
        return peer
    }

    /// A valid upgrade request.
    static func upgradeRequest(path: String = "/", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
    }

    /// Sends bytes, all of them.
    func write(_ bytes: [UInt8]) async throws {
        let descriptor = self.descriptor
        try await onHelperThread {
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    send(descriptor, buffer.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                guard written > 0 else { throw RawPeerError(description: "send failed: \(errno)") }
                offset += written
            }
        }
    }

    /// Sends text as UTF-8.
    func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Sends frames.
    func write(_ frames: [WebSocketFrame]) async throws {
        try await write(frames.flatMap { $0.encoded() })
    }

    /// Reads more bytes into the buffer; `false` at end of stream.
    private static func fill(_ descriptor: Int32, _ buffer: inout [UInt8]) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        if count == 0 || errno == ECONNRESET { return false }
        throw RawPeerError(description: "recv failed: \(errno == EAGAIN ? "timed out" : String(errno))")
    }

    /// Reads an HTTP response head and its `Content-Length` body.
    func readHTTPResponse() async throws -> (statusLine: String, head: String, body: String) {
        let descriptor = self.descriptor
        return try await onHelperThread { [self] in
            try self.buffer.withLock { buffer in
                var headLength: Int?
                while true {
                    headLength = buffer.withUnsafeBytes { WebSocketHandshake.headLength(in: $0) }
                    if headLength != nil { break }
                    guard try Self.fill(descriptor, &buffer) else { throw RawPeerError(description: "closed in head") }
                }
                let length = headLength ?? 0
                let head = String(decoding: buffer[0..<length], as: UTF8.self)
                buffer.removeFirst(length)
                let statusLine = String(head.prefix { $0 != "\r\n" })
                var bodyLength = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingPrefix(" ")) ?? 0
                }
                while buffer.count < bodyLength {
                    guard try Self.fill(descriptor, &buffer) else { break }
                }
                let body = String(decoding: buffer.prefix(bodyLength), as: UTF8.self)
                buffer.removeFirst(min(bodyLength, buffer.count))
                return (statusLine, head, body)
            }
        }
    }

    /// Reads the next frame; `nil` at end of stream.
    func readFrame() async throws -> WebSocketFrame? {
        let descriptor = self.descriptor
        return try await onHelperThread { [self] in
            try self.buffer.withLock { buffer in
                while true {
                    if let (frame, count) = WebSocketFrame.decode(buffer) {
                        buffer.removeFirst(count)
                        return frame
                    }
                    guard try Self.fill(descriptor, &buffer) else { return nil }
                }
            }
        }
    }

    /// Reads frames until a close frame; returns its code and reason (`nil` code for an empty close frame).
    func readClose() async throws -> (code: UInt16?, reason: String) {
        while let frame = try await readFrame() {
            guard frame.opcode == WebSocketFrame.Opcode.close.rawValue else { continue }
            guard frame.payload.count >= 2 else { return (nil, "") }
            let code = UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
            return (code, String(decoding: frame.payload.dropFirst(2), as: UTF8.self))
        }
        throw RawPeerError(description: "connection ended without a close frame")
    }

    /// Reads and discards until the peer closes, then closes too; returns how many bytes came.
    @discardableResult
    func readUntilEnd() async throws -> Int {
        let descriptor = self.descriptor
        defer { close() }
        return try await onHelperThread { [self] in
            try self.buffer.withLock { buffer in
                var total = buffer.count
                buffer.removeAll()
                while try Self.fill(descriptor, &buffer) {
                    total += buffer.count
                    buffer.removeAll()
                }
                return total
            }
        }
    }

    /// Closes the socket.
    func close() {
        let wasClosed = isClosed.withLock { isClosed in
            defer { isClosed = true }
            return isClosed
        }
        if !wasClosed { Glibc.close(descriptor) }
    }
}

/// A masked client frame.
func clientFrame(
    _ opcode: WebSocketFrame.Opcode,
    _ payload: [UInt8],
    fin: Bool = true
) -> WebSocketFrame {
    WebSocketFrame(fin: fin, opcode: opcode, maskingKey: [0x11, 0x22, 0x33, 0x44], payload: payload)
}

/// Server options for tests: an ephemeral loopback port, then the changes `configure` makes.
func serverOptions(_ configure: (inout WebSocketServer.Options) -> Void = { _ in }) -> WebSocketServer.Options {
    var options = WebSocketServer.Options(port: 0)
    configure(&options)
    return options
}

/// Runs a test body against a fresh server, shutting it down afterwards.
func withServer<Value>(
    _ options: WebSocketServer.Options = serverOptions(),
    _ body: (WebSocketServer) async throws -> Value
) async throws -> Value {
    let server = try WebSocketServer(options: options)
    do {
        let value = try await body(server)
        await server.shutdown()
        return value
    } catch {
        await server.shutdown()
        throw error
    }
}
