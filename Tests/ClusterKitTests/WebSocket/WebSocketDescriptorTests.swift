import ClusterKit
import ClusterKitModel
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Descriptors are close-on-exec from the moment they exist, so a process another thread spawns never
/// inherits one.
@Suite struct WebSocketDescriptorTests {
    @Test func processesSpawnedWhileConnectionsComeAndGoInheritNoSocket() async throws {
        try await withServer(
            serverOptions {
                $0.maximumConnections = 10_000
                $0.connection.pingInterval = nil
            }
        ) { server in
            let port = server.port
            let isDone = Guarded(false)
            let isConnecting = try Gate()
            // Client and server sockets are created all the time while children are spawned; the last 32 stay
            // open, so that a socket a child inherited is still listed in /proc/net/tcp when it is looked up.
            // Before the fix, each socket was open without close-on-exec for a moment (between socket or
            // accept and fcntl), and a child spawned then kept it.
            async let connections: Int = {
                var count = 0
                var open: [(WebSocketConnection, WebSocketConnection?)] = []
                defer { isConnecting.open() }
                while !isDone.withLock({ $0 }) {
                    let client = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)/")
                    open.append((client, try await server.accept()))
                    // The spawning starts once connections are under way (the task may start late on a busy pool).
                    isConnecting.open()
                    if open.count > 32 { await open.removeFirst().0.close() }
                    count += 1
                }
                for (client, _) in open { await client.close() }
                return count
            }()
            let inherited = try await onHelperThread {
                defer { isDone.withLock { $0 = true } }
                isConnecting.wait()
                return try ChildInspection.socketsInherited(bySpawning: 800, involvingPort: port)
            }
            #expect(try await connections > 0)
            #expect(inherited == [])
        }
    }
}

/// Spawns `/bin/cat` (blocked on its standard input) and reads which sockets it holds.
private enum ChildInspection {
    /// Spawns `count` children one after another and returns the `/proc/net/tcp` lines of sockets they
    /// inherited whose local or remote port is `port` (the server's and its clients', not other tests').
    static func socketsInherited(bySpawning count: Int, involvingPort port: Int) throws -> [String] {
        // Sockets this process already held (some come from whoever started it) are not the server's.
        let before = socketInodes(of: getpid())
        var found: [String] = []
        for _ in 0..<count {
            let (pid, input) = try spawnCat()
            // posix_spawn returns once the child has executed cat: its descriptors are final.
            let inodes = socketInodes(of: pid).subtracting(before)
            if !inodes.isEmpty { found += connections(withInodes: inodes, involvingPort: port) }
            release(pid, input: input)
        }
        return found
    }

    private static func spawnCat() throws -> (pid: pid_t, input: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { throw RawPeerError(description: "pipe failed") }
        // Later children must not hold this pipe open, or this one never sees the end of its input.
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, descriptors[0], 0)
        posix_spawn_file_actions_addclose(&actions, descriptors[1])
        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/cat"), nil]
        let environment: [UnsafeMutablePointer<CChar>?] = [nil]
        let status = posix_spawn(&pid, "/bin/cat", &actions, nil, arguments, environment)
        posix_spawn_file_actions_destroy(&actions)
        for argument in arguments { free(argument) }
        close(descriptors[0])
        guard status == 0 else {
            close(descriptors[1])
            throw RawPeerError(description: "posix_spawn failed: \(status)")
        }
        return (pid, descriptors[1])
    }

    /// Ends a child (end of input) and reaps it.
    private static func release(_ pid: pid_t, input: Int32) {
        close(input)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    }

    /// The inodes of the sockets a process holds, from `/proc/PID/fd`.
    private static func socketInodes(of pid: pid_t) -> Set<String> {
        guard let directory = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(directory) }
        var inodes: Set<String> = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/\(pid)/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { continue }
            let text = String(decoding: target.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("socket:[") { inodes.insert(String(text.dropFirst(8).dropLast())) }
        }
        return inodes
    }

    /// The TCP sockets (as their `/proc/net/tcp` lines) with those inodes whose local or remote port is `port`.
    private static func connections(withInodes inodes: Set<String>, involvingPort port: Int) -> [String] {
        var lines: [String] = []
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let file = fopen(path, "re") else { continue }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 512)
            while fgets(&buffer, Int32(buffer.count), file) != nil {
                let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let fields = line.split(separator: " ")
                guard fields.count > 9, inodes.contains(String(fields[9])) else { continue }
                let ports = [fields[1], fields[2]].compactMap {
                    $0.split(separator: ":").last.flatMap { Int($0, radix: 16) }
                }
                if ports.contains(port) { lines.append(line) }
            }
        }
        return lines
    }
}
