import ClusterKit
import ClusterKitModel

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
    private let buffer = Guarded<[UInt8]>([])
    private let isClosed = Guarded(false)

    init(descriptor: Int32) {
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close()
    }

    /// Connects to the server on loopback.
    static func connect(port: Int, host: String = "127.0.0.1", receiveBufferSize: Int32? = nil) async throws -> RawPeer
    {
        let descriptor = try await onHelperThread {
            try openSocket(port: port, host: host, receiveBufferSize: receiveBufferSize)
        }
        return RawPeer(descriptor: descriptor)
    }

    private static func openSocket(
        port: Int,
        host: String = "127.0.0.1",
        receiveBufferSize: Int32? = nil
    ) throws -> Int32 {
        let isV6 = host.contains(":")
        let descriptor = socket(
            isV6 ? AF_INET6 : AF_INET,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard descriptor >= 0 else { throw RawPeerError(description: "socket failed") }
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

    /// Opens `count` connections one after another and resets each at once (`SO_LINGER` 0, then close), so that
    /// the server may find them reset before it accepts them.
    static func connectAndReset(port: Int, count: Int) async throws {
        try await onHelperThread {
            for _ in 0..<count {
                let descriptor = try openSocket(port: port)
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                Glibc.close(descriptor)
            }
        }
    }

    /// Writes `chunk` over and over without reading, until `limit` bytes went out in all or the server has
    /// taken nothing for `idle` (it stopped reading); returns how many bytes went out in all.
    ///
    /// `start` is what earlier calls wrote, so the stream carries on where they stopped (possibly within a
    /// chunk). The idle wait only bounds how long a server that stopped reading is given; a server that
    /// reads is never waited for.
    func writeRepeatedly(_ chunk: [UInt8], from start: Int, upTo limit: Int, idle: Duration) async throws -> Int {
        let descriptor = self.descriptor
        let idleMilliseconds = Int32(
            idle.components.seconds * 1000 + idle.components.attoseconds / 1_000_000_000_000_000
        )
        return try await onHelperThread {
            var batch: [UInt8] = []
            while batch.count < 64 << 10 { batch += chunk }
            var total = start
            var offset = start % batch.count
            while total < limit {
                let written = batch.withUnsafeBytes { buffer in
                    send(
                        descriptor,
                        buffer.baseAddress.map { $0 + offset },
                        min(batch.count - offset, limit - total),
                        Int32(MSG_NOSIGNAL | MSG_DONTWAIT)
                    )
                }
                if written > 0 {
                    total += written
                    offset = (offset + written) % batch.count
                    continue
                }
                guard written < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                    throw RawPeerError(description: "send failed: \(errno)")
                }
                var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                if poll(&waiting, 1, idleMilliseconds) == 0 { break }
            }
            return total
        }
    }

    /// Connects, upgrades and answers `count` pings, all on one helper thread so that no task scheduling
    /// delay sits between a ping and its pong; returns the peer and the last frame read.
    static func connectWebSocketAnsweringPings(port: Int, count: Int) async throws -> (RawPeer, WebSocketFrame?) {
        try await onHelperThread {
            let peer = RawPeer(descriptor: try openSocket(port: port))
            try writeAll(peer.descriptor, Array(upgradeRequest().utf8))
            return try peer.buffer.withLock { buffer in
                let response = try readHTTPResponse(peer.descriptor, &buffer)
                guard response.statusLine == "HTTP/1.1 101 Switching Protocols" else {
                    throw RawPeerError(description: "handshake failed: \(response.statusLine)")
                }
                return (peer, try answerPings(count, peer.descriptor, &buffer))
            }
        }
    }

    /// Connects and completes a valid upgrade handshake.
    static func connectWebSocket(
        port: Int,
        path: String = "/",
        receiveBufferSize: Int32? = nil
    ) async throws -> RawPeer {
        let peer = try await connect(port: port, receiveBufferSize: receiveBufferSize)
        try await peer.write(Self.upgradeRequest(path: path))
        let response = try await peer.readHTTPResponse()
        guard response.statusLine == "HTTP/1.1 101 Switching Protocols" else {
            throw RawPeerError(description: "handshake failed: \(response.statusLine)")
        }
        return peer
    }

    /// Connects and sends an upgrade request with extra header lines; returns the peer and the answer.
    static func upgrade(
        port: Int,
        extra: String,
        host: String? = nil
    ) async throws -> (RawPeer, (statusLine: String, head: String, body: String)) {
        let peer = try await connect(port: port)
        var request = upgradeRequest(extra: extra)
        if let host { request = request.replacing("Host: 127.0.0.1\r\n", with: "Host: \(host)\r\n") }
        try await peer.write(request)
        return (peer, try await peer.readHTTPResponse())
    }

    /// A valid upgrade request.
    static func upgradeRequest(path: String = "/", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
    }

    /// Sends bytes, all of them.
    func write(_ bytes: [UInt8]) async throws {
        let descriptor = self.descriptor
        try await onHelperThread { try Self.writeAll(descriptor, bytes) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw RawPeerError(description: "send failed: \(errno)") }
            offset += written
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
            try self.buffer.withLock { buffer in try Self.readHTTPResponse(descriptor, &buffer) }
        }
    }

    private static func readHTTPResponse(
        _ descriptor: Int32,
        _ buffer: inout [UInt8]
    ) throws
        -> (statusLine: String, head: String, body: String)
    {
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

    /// Answers `count` pings with pongs from one helper thread (no thread start between a ping and its
    /// pong), then returns the first frame that is not a ping, or `nil` at end of stream.
    func answerPings(_ count: Int) async throws -> WebSocketFrame? {
        let descriptor = self.descriptor
        return try await onHelperThread { [self] in
            try self.buffer.withLock { buffer in try Self.answerPings(count, descriptor, &buffer) }
        }
    }

    private static func answerPings(
        _ count: Int,
        _ descriptor: Int32,
        _ buffer: inout [UInt8]
    ) throws
        -> WebSocketFrame?
    {
        var answered = 0
        while true {
            guard let (frame, length) = WebSocketFrame.decode(buffer) else {
                guard try Self.fill(descriptor, &buffer) else { return nil }
                continue
            }
            buffer.removeFirst(length)
            guard frame.opcode == WebSocketFrame.Opcode.ping.rawValue, answered < count else { return frame }
            let pong = clientFrame(.pong, frame.payload).encoded()
            guard
                pong.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == pong.count
            else { throw RawPeerError(description: "send failed") }
            answered += 1
            if answered == count { return frame }
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

    /// Reads an HTTP request head (what a client sends to upgrade).
    func readRequestHead() async throws -> String {
        try await onHelperThread { [self] in
            try self.buffer.withLock { buffer in
                while true {
                    if let length = buffer.withUnsafeBytes({ WebSocketHandshake.headLength(in: $0) }) {
                        defer { buffer.removeFirst(length) }
                        return String(decoding: buffer[0..<length], as: UTF8.self)
                    }
                    guard try Self.fill(descriptor, &buffer) else { throw RawPeerError(description: "closed in head") }
                }
            }
        }
    }

    /// Reads a client's upgrade request and answers 101 with the right accept value (or `accept`).
    func acceptUpgrade(accept: String? = nil) async throws -> String {
        let head = try await readRequestHead()
        let key =
            head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { String($0.dropFirst("sec-websocket-key:".count).trimmingPrefix(" ")) } ?? ""
        let value = accept ?? WebSocketHandshake.acceptValue(forKey: key)
        try await write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(value)\r\n\r\n"
        )
        return head
    }
}

/// A listening socket on an ephemeral loopback port that the test accepts from by hand (or never).
final class RawListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else {
            Glibc.close(descriptor)
            throw RawPeerError(description: "listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Accepts one connection.
    func accept() async throws -> RawPeer {
        let descriptor = self.descriptor
        let accepted = try await onHelperThread { () throws -> Int32 in
            let accepted = Glibc.accept(descriptor, nil, nil)
            guard accepted >= 0 else { throw RawPeerError(description: "accept failed: \(errno)") }
            return accepted
        }
        return RawPeer(descriptor: accepted)
    }
}

/// The head of a masked client frame declaring `length` payload bytes (key 11 22 33 44); the payload follows
/// separately.
func clientFrameHeader(_ opcode: WebSocketFrame.Opcode, length: Int, fin: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
    if length < 126 {
        bytes.append(0x80 | UInt8(length))
    } else if length <= 0xFFFF {
        bytes += [0x80 | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
    } else {
        bytes.append(0x80 | 127)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((length >> shift) & 0xFF)) }
    }
    return bytes + [0x11, 0x22, 0x33, 0x44]
}

/// Whether `operation` finishes within `limit`; one that does not is left running (it is hung).
func finishes(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
    let (results, continuation) = AsyncStream<Bool>.makeStream()
    let work = Task {
        await operation()
        continuation.yield(true)
    }
    let timer = Task {
        if (try? await Task.sleep(for: limit)) != nil { continuation.yield(false) }
    }
    defer { timer.cancel() }
    _ = work
    for await result in results { return result }
    return false
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

/// A gate a helper thread waits at until the test opens it: a pipe whose read blocks until the write end closes.
final class Gate: Sendable {
    private let reader: Int32
    private let writer: Int32
    private let isOpen = Guarded(false)

    init() throws {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw RawPeerError(description: "pipe failed") }
        // A child spawned meanwhile must not hold the write end open.
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        reader = descriptors[0]
        writer = descriptors[1]
    }

    deinit {
        close(reader)
    }

    /// Blocks until ``open()``.
    func wait() {
        var byte: UInt8 = 0
        while read(reader, &byte, 1) < 0, errno == EINTR {}
    }

    /// Lets every waiter through; later calls do nothing.
    func open() {
        let wasOpen = isOpen.withLock { isOpen in
            defer { isOpen = true }
            return isOpen
        }
        if !wasOpen { close(writer) }
    }
}

extension WebSocketServer {
    /// The next refusal, or `nil` when none comes within `limit`.
    func nextRefusal(within limit: Duration) async -> Refusal? {
        await withTaskGroup(of: Refusal?.self) { group in
            group.addTask { await self.nextRefusal() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }
}
