import CClusterKitSupport
package import ClusterKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A cluster of local node processes run by a `zeekctl supervisor` in the background: what
/// `zeekctl cluster start|status|stop` do.
///
/// ``start(_:)`` starts the supervisor detached (its own session, output to a log file), which starts the controller,
/// the agents and the nodes, and returns once
/// its start-up deployment finished with every node's hello; ``status(controller:timeout:)`` asks the
/// controller for its node processes; ``stop(controller:timeout:isAlive:)`` has it stop everything and waits
/// until no process of the cluster is left.
package enum LocalCluster: Sendable {
    /// How to start a local cluster.
    package struct StartOptions: Sendable, Hashable {
        /// The `zeekctl` binary to run as the supervisor (and, through it, as the controller, the agents and the nodes).
        package var executablePath: String
        /// The layout to deploy (node.cfg, cluster-layout.zeek or Management INI); `nil` deploys ClusterKit's
        /// built-in example (``EmbeddedCluster/example``).
        package var layoutPath: String?
        /// Where the controller listens, `HOST:PORT`; default `127.0.0.1:2149`.
        package var listen: String
        /// The directory for the controller's log, the example configuration and the nodes' runtime directories.
        ///
        /// `nil` (the default) creates a fresh private one (mode 0700, unpredictable name
        /// `zeekctl-cluster-XXXXXX`) under `$XDG_RUNTIME_DIR`, else `$TMPDIR`, else `/tmp` (from `environment`),
        /// which stays after the cluster stops. A given directory is created with mode 0700 when missing; an
        /// existing one must be a real directory (not a symbolic link) of this user that its group and others
        /// cannot write.
        package var stateDirectory: String?
        /// The controller's environment.
        package var environment: [String: String]
        /// How long to wait for the supervisor to report the deployment; default 120 s.
        package var timeout: Duration
        /// The program the nodes run instead of `executablePath` (`controller --node-program`); default `nil`.
        package var nodeProgram: String?
        /// Whether the controller may listen on a non-loopback address (`controller --allow-remote`, see
        /// ``ControllerService/Options/allowsRemoteClients``); default `false`.
        package var allowsRemoteClients: Bool
        /// Whether other local users' processes may connect (`controller --allow-other-users`, see
        /// ``WebSocketServer/LocalPeerPolicy/anyUser``); default `false`.
        package var allowsOtherUsers: Bool
        /// Further arguments for the controller: its TLS and token options (`--tls-certificate FILE`, …), with
        /// absolute paths; default none.
        package var controllerArguments: [String] = []

        /// Creates start options.
        ///
        /// - Parameters:
        ///   - executablePath: The `zeekctl` binary.
        ///   - layoutPath: The layout, or `nil` for the example.
        ///   - listen: The listening address.
        ///   - stateDirectory: The state directory, or `nil` for a fresh private one.
        ///   - environment: The controller's environment.
        ///   - timeout: The start-up limit.
        ///   - nodeProgram: The nodes' program, or `nil` for `executablePath`.
        ///   - allowsRemoteClients: Whether a non-loopback listening address is allowed.
        ///   - allowsOtherUsers: Whether other local users may connect.
        ///   - controllerArguments: The controller's TLS and token options.
        package init(
            executablePath: String,
            layoutPath: String? = nil,
            listen: String = "127.0.0.1:\(ControllerService.defaultPort)",
            stateDirectory: String? = nil,
            environment: [String: String],
            timeout: Duration = .seconds(120),
            nodeProgram: String? = nil,
            allowsRemoteClients: Bool = false,
            allowsOtherUsers: Bool = false,
            controllerArguments: [String] = []
        ) {
            self.controllerArguments = controllerArguments
            self.nodeProgram = nodeProgram
            self.allowsRemoteClients = allowsRemoteClients
            self.allowsOtherUsers = allowsOtherUsers
            self.executablePath = executablePath
            self.layoutPath = layoutPath
            self.listen = listen
            self.stateDirectory = stateDirectory
            self.environment = environment
            self.timeout = timeout
        }
    }

    /// A started cluster.
    package struct Started: Sendable, Hashable {
        /// The controller's process id.
        package var pid: Int
        /// The controller's URL.
        package var url: String
        /// The state directory (given, or created for this start).
        package var stateDirectory: String
        /// The controller's log file, `controller.log` in the state directory.
        package var logPath: String
        /// The controller's report of its deployment (`deployed configuration …: N nodes on …`).
        package var deployment: String
    }

    /// A stopped cluster.
    package struct Stopped: Sendable, Hashable {
        /// Every process id that was stopped, the controller's first: nodes, agents, the supervisor.
        package var pids: [Int]
        /// How many of them were nodes.
        package var nodeCount: Int
    }

    /// Why a local cluster could not be started, queried or stopped.
    package struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// What went wrong.
        package enum Code: String, Sendable, Hashable {
            /// The state directory is unsafe (a symbolic link, another user's, writable by others) or cannot be
            /// created.
            case unusableStateDirectory
            /// The controller could not be spawned (or its log or configuration not written).
            case spawnFailed
            /// The supervisor (or its controller) exited during start-up, or reported that it could not start.
            case controllerExited
            /// Nodes failed to start (the supervisor was stopped again, and everything with it).
            case nodesFailed
            /// No start-up report within the limit (the supervisor was stopped again).
            case timedOut
            /// Processes of the cluster were still alive at the limit of a stop.
            case processesLeft
            /// The controller did not answer.
            case noAnswer
        }

        /// The code.
        package var code: Code
        /// The message, one line per problem.
        package var message: String

        /// The message.
        package var description: String { message }
    }

    /// Starts the supervisor in the background and waits until its deployment is done.
    ///
    /// The controller's standard output and error are appended to `controller.log` in the state directory (opened
    /// with `O_APPEND|O_NOFOLLOW`, mode 0600); the built-in example is written there as `example.ini`
    /// atomically. The controller inherits no other descriptor but the write end of a pipe as descriptor 3
    /// (`--ready-fd 3`), on which it reports its URL and deployment once it answers, or why it cannot start
    /// (``ControllerReadiness``): nothing it prints for people is read back.
    ///
    /// - Parameter options: What to start and where.
    /// - Returns: The controller's pid, URL, state directory, log file and deployment report.
    /// - Throws: ``Failure``: `unusableStateDirectory`, `spawnFailed`, `controllerExited` (with the reason it
    ///   reported), `nodesFailed` (the nodes that failed, each with its error; everything started was stopped),
    ///   `timedOut`.
    package static func start(_ options: StartOptions) async throws -> Started {
        let directory: PrivateDirectory
        do {
            if let path = options.stateDirectory {
                directory = try PrivateDirectory(checking: path)
            } else {
                directory = try PrivateDirectory.makeTemporary(
                    prefix: "zeekctl-cluster-",
                    environment: options.environment
                )
            }
        } catch {
            throw Failure(code: .unusableStateDirectory, message: "state directory \(error)")
        }
        let logPath = directory.file("controller.log")
        // A supervisor runs the controller and a local agent per instance as its children, as Zeek's boot.zeek
        // does: each revived when killed, the nodes running on.
        var arguments = [
            "supervisor", "--listen", options.listen, "--state-dir", directory.path, "--timeout",
            "\(options.timeout.components.seconds)",
        ]
        if let nodeProgram = options.nodeProgram { arguments += ["--node-program", nodeProgram] }
        if options.allowsRemoteClients { arguments.append("--allow-remote") }
        if options.allowsOtherUsers { arguments.append("--allow-other-users") }
        arguments += options.controllerArguments
        if let layoutPath = options.layoutPath {
            arguments += ["--layout", layoutPath]
        } else {
            let example = Management.Configuration(
                layout: EmbeddedCluster.example,
                instance: "agent-" + ControllerService.localHostName()
            )
            do {
                let iniPath = try directory.write(Array(ManagementINI.text(of: example).utf8), toFile: "example.ini")
                arguments += ["--config", iniPath]
            } catch {
                throw Failure(code: .spawnFailed, message: "cannot write the example cluster: \(error)")
            }
        }
        let log: Int32
        do {
            log = try LocalFile.openForAppending(logPath)
        } catch {
            throw Failure(code: .spawnFailed, message: "cannot open the controller's log: \(error)")
        }
        defer { close(log) }
        // The controller reports on descriptor 3 (the pipe's write end) once it answers, or why it cannot start.
        var ends: [Int32] = [-1, -1]
        guard ck_wake_pipe(&ends) == 0 else {
            throw Failure(
                code: .spawnFailed,
                message: "cannot make the readiness pipe: \(String(cString: strerror(errno)))"
            )
        }
        defer { close(ends[0]) }
        let pid: pid_t
        do {
            pid = try spawnDetached(
                options.executablePath,
                arguments + ["--ready-fd", "3"],
                environment: options.environment,
                output: log,
                ready: ends[1]
            )
        } catch {
            close(ends[1])
            throw error
        }
        close(ends[1])
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.timeout)
        var received: [UInt8] = []
        var exited = false
        while true {
            switch readAvailable(ends[0], into: &received) {
            case .more:
                break
            case .end:
                return try await finishStart(
                    report: received,
                    pid: pid,
                    exited: exited,
                    directory: directory.path,
                    logPath: logPath
                )
            }
            if !exited {
                var status: Int32 = 0
                // The report, if any, is in the pipe already: read it to its end before deciding.
                exited = waitpid(pid, &status, WNOHANG) == pid
            }
            if clock.now >= deadline {
                await terminate(pid)
                throw Failure(
                    code: .timedOut,
                    message: "the cluster reported no deployment within \(options.timeout.textForPeople) "
                        + "(log: \(logPath)); it was stopped"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// What reading a non-blocking pipe found.
    private enum PipeRead {
        /// Nothing more for now.
        case more
        /// The writer closed it.
        case end
    }

    /// Appends what `descriptor` holds now to `bytes` (at most 1 MiB in all: a report is one short line).
    private static func readAvailable(_ descriptor: Int32, into bytes: inout [UInt8]) -> PipeRead {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                if bytes.count < 1 << 20 { bytes += chunk[0..<count] }
                continue
            }
            if count == 0 { return .end }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .more : .end
        }
    }

    /// Turns the supervisor's readiness report into a started cluster or a failure.
    private static func finishStart(
        report: [UInt8],
        pid: pid_t,
        exited: Bool,
        directory: String,
        logPath: String
    ) async throws -> Started {
        let text = String(decoding: report, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            if !exited { await terminate(pid) }
            throw Failure(
                code: .controllerExited,
                message: "the cluster's supervisor exited during start-up without a report (log: \(logPath))"
            )
        }
        let readiness: ControllerReadiness
        do {
            readiness = try ControllerReadiness(parsing: text)
        } catch {
            await terminate(pid)
            throw Failure(code: .controllerExited, message: "\(error) (log: \(logPath))")
        }
        switch readiness.outcome {
        case .failed(let error):
            await terminate(pid)
            throw Failure(
                code: .controllerExited,
                message: "the cluster did not start (log: \(logPath))\n" + error
            )
        case .ready(let url, let deployment):
            if let deployment, !deployment.failures.isEmpty {
                await terminate(pid)
                throw Failure(
                    code: .nodesFailed,
                    message: "the cluster did not start: " + deployment.report.dropLast()
                )
            }
            return Started(
                pid: Int(pid),
                url: url,
                stateDirectory: directory,
                logPath: logPath,
                deployment: deployment?.summary ?? ""
            )
        }
    }

    /// Every node process of the cluster a controller runs.
    ///
    /// - Parameters:
    ///   - url: The controller's WebSocket URL.
    ///   - access: TLS settings and token.
    ///   - timeout: How long to wait for the answer.
    /// - Returns: The statuses, sorted by node name.
    /// - Throws: ``BackendError`` when the controller cannot be reached; ``Failure`` (`noAnswer`) when it does
    ///   not answer (Zeek's controller does not know the request: use `get_nodes` there).
    package static func status(
        controller url: String,
        access: ClientAccess = ClientAccess(),
        timeout: Duration = .seconds(10)
    ) async throws
        -> [NodeProcessStatus]
    {
        try await withControllerClient(url, access: access, timeout: timeout) { try await $0.getNodeProcesses() }
    }

    /// Has the controller stop every node and itself, and waits until none of those processes is left.
    ///
    /// - Parameters:
    ///   - url: The controller's WebSocket URL.
    ///   - access: TLS settings and token.
    ///   - timeout: How long to wait for the processes to be gone (the stop sequence gives nodes up to 26 s
    ///     of SIGTERM before SIGKILL); default 60 s.
    ///   - isAlive: Whether a process id still names a process; default `kill(pid, 0)` on this machine.
    /// - Returns: The process ids that were stopped, the controller's first, and how many were nodes.
    /// - Throws: ``BackendError`` when the controller cannot be reached; ``Failure``: `noAnswer`,
    ///   `processesLeft` naming the pids still alive.
    package static func stop(
        controller url: String,
        access: ClientAccess = ClientAccess(),
        timeout: Duration = .seconds(60),
        isAlive: @Sendable (Int) -> Bool = LocalCluster.processExists
    ) async throws -> Stopped {
        let (pids, nodeCount) = try await withControllerClient(url, access: access, timeout: .seconds(10)) { client in
            // Counted first: the shutdown's pids also name agents and a supervisor, when there are.
            let nodeCount = try await client.getNodeProcesses().count
            return (try await client.shutdownController(), nodeCount)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let alive = pids.filter(isAlive)
            if alive.isEmpty { return Stopped(pids: pids, nodeCount: nodeCount) }
            if clock.now >= deadline {
                throw Failure(
                    code: .processesLeft,
                    message: "\(url): still running after \(timeout.textForPeople): "
                        + alive.map { "pid \($0)" }.joined(separator: ", ")
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` with a ``ControllerClient`` on a new connection to `url` (announced as `zeekctl`), closing
    /// the connection whatever happens; a controller that does not answer becomes ``Failure`` `noAnswer`.
    private static func withControllerClient<T: Sendable>(
        _ url: String,
        access: ClientAccess,
        timeout: Duration,
        _ body: @escaping @Sendable (ControllerClient) async throws -> T
    ) async throws -> T {
        let backend = WebSocketBackend(url: url, options: access.backendOptions())
        do {
            let value = try await withDispatcher(
                backend: backend,
                protocols: [.managementController],
                options: DispatchOptions(timeout: timeout)
            ) { dispatcher in
                try await body(ControllerClient(dispatcher: dispatcher))
            }
            await backend.close()
            return value
        } catch let error as ControllerClient.CallError {
            await backend.close()
            throw Failure(code: .noAnswer, message: "\(url): \(error)")
        } catch {
            await backend.close()
            throw error
        }
    }

    /// Whether `pid` names a live process on this machine: `kill(pid, 0)` does not fail with `ESRCH`, and
    /// `/proc/<pid>/stat` does not show a zombie (an exited process its parent has not reaped yet, as orphans
    /// wait for a slow init).
    ///
    /// - Parameter pid: The process id.
    /// - Returns: Whether it exists and has not exited.
    @Sendable public static func processExists(_ pid: Int) -> Bool {
        guard kill(pid_t(pid), 0) == 0 || errno != ESRCH else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        // `pid (comm) S ...`: the state letter follows the last parenthesis.
        return stat[stat.index(after: close)...].trimmingPrefix(" ").first != "Z"
    }

    /// The live child of `parent` whose command line contains `pattern`, from `/proc` (for example the controller a
    /// cluster's supervisor runs: `controller --agents remote`); the first found when several match.
    ///
    /// - Parameters:
    ///   - parent: The parent's process id.
    ///   - pattern: Text of the command line, its arguments separated by spaces.
    /// - Returns: The child's pid, or `nil`.
    package static func childProcess(of parent: Int, commandContaining pattern: String) -> Int? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // `pid (comm) S PPID ...`: the state, then the parent's pid, follow the last parenthesis.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", Int(fields[1]) == parent,
                let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                command.replacingOccurrences(of: "\0", with: " ").contains(pattern)
            else { continue }
            return pid
        }
        return nil
    }

    /// Starts `path` detached (its own session, standard input from /dev/null, standard output and error on
    /// `output`, no other descriptor, default signal handling); see `ck_spawn_detached`.
    ///
    /// - Parameters:
    ///   - path: The program.
    ///   - arguments: Its arguments, without the program name.
    ///   - environment: Its whole environment.
    ///   - output: The descriptor for its standard output and error (still the caller's afterwards).
    ///   - ready: A descriptor the program gets as descriptor 3 (still the caller's afterwards), or -1.
    /// - Returns: The process id, once the program is executing.
    /// - Throws: ``Failure`` (`spawnFailed`) naming the program and the reason.
    static func spawnDetached(
        _ path: String,
        _ arguments: [String],
        environment: [String: String],
        output: Int32,
        ready: Int32 = -1
    ) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let status = ck_spawn_detached(path, argv, envp, output, ready, &pid)
        guard status == 0 else {
            throw Failure(code: .spawnFailed, message: "\(path): cannot start: \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// SIGTERM, then SIGKILL after 30 s; reaps the child.
    private static func terminate(_ pid: pid_t) async {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<1500 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }
}
