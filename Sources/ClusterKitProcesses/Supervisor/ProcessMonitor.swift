import CClusterKitSupport
import ClusterKitModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything needed to start one node process.
struct SpawnRequest: Sendable {
    /// A file to write before spawning (the node's configuration).
    struct File: Sendable, Hashable {
        /// The directory the file goes in (created, mode 0700, when missing).
        var directory: String
        /// The file's path.
        var path: String
        /// The file's contents.
        var contents: [UInt8]
    }

    /// The spawn's key, handed back with the outcome.
    var key: SupervisorStateMachine.SpawnKey
    /// The node's name.
    var node: String
    /// The program to execute.
    var executable: String
    /// The argument vector, program name first.
    var arguments: [String]
    /// The complete environment as `KEY=VALUE` strings.
    var environment: [String]
    /// The working directory.
    var directory: String?
    /// A file for standard output.
    var stdoutFile: String?
    /// A file for standard error.
    var stderrFile: String?
    /// The CPU to pin the process to.
    var cpuAffinity: Int?
    /// The signal the process gets when the monitor thread (and so the supervisor) dies.
    var parentDeathSignal: Int32?
    /// A file to write first.
    var file: File?
}

/// What the process monitor reports; called on the monitor thread, outside its lock.
protocol ProcessMonitorDelegate: AnyObject, Sendable {
    /// A spawn request has been carried out.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - result: The outcome.
    func monitorCompletedSpawn(_ request: SpawnRequest, result: SupervisorStateMachine.SpawnResult)
    /// A child has exited and has been reaped; all of its output has been reported before.
    ///
    /// - Parameters:
    ///   - serial: The node's serial number.
    ///   - pid: The process id.
    ///   - termination: How it ended.
    func monitorObservedExit(serial: UInt64, pid: Int32, termination: ProcessSupervisor.Termination)
    /// A child wrote a line (without its newline; possibly empty).
    ///
    /// - Parameters:
    ///   - node: The node's name.
    ///   - channel: The stream.
    ///   - bytes: The line's bytes.
    func monitorReadLine(node: String, channel: ProcessSupervisor.OutputChannel, bytes: [UInt8])
}

/// The supervisor's one dedicated thread: it forks the node processes, notices their exits, and reads their output.
///
/// Forking on this long-lived thread matters: Linux's parent-death signal fires when the *thread* that forked
/// exits, and Swift's concurrency threads come and go. The thread waits in `poll(2)` on a wake-up pipe, one pidfd per
/// child (readable once the child exits), and the children's output pipes; it never runs Swift concurrency work,
/// so it blocks no shared thread. Where pidfds are unavailable it falls back to checking each child with
/// `waitpid(WNOHANG)` every 50 ms.
///
/// A node's own process gets SIGKILL from the kernel when this thread dies (`PR_SET_PDEATHSIG`); its descendants do
/// not. So the thread also starts a *group watchdog* (`ck_watchdog_start`), a small forked process that learns every
/// node's process group and sends them SIGKILL when the supervisor process goes away (it sees end-of-file on a socket
/// only the supervisor holds). Groups are registered before their spawn is reported and unregistered once reaped.
///
/// Requests come in through ``submit(_:)``, ``signalGroup(leader:signal:)``, ``stop()`` and ``terminate()`` from
/// any thread; the shared part of the state sits behind a `Mutex`. The thread starts with the first request and ends
/// once stopping was asked for and no child is left.
final class ProcessMonitor: Sendable {
    private enum Lifecycle: Sendable {
        case idle
        case running(wakeFD: Int32)
        case finished
        case failed(String)
    }

    private struct Shared: Sendable {
        var lifecycle = Lifecycle.idle
        var requests: [SpawnRequest] = []
        /// Children not reaped yet: their pids (also their process group ids) cannot be reused, so signalling
        /// their groups is safe.
        var live: Set<Int32> = []
        var isStopRequested = false
        var isTerminateRequested = false
    }

    private struct WeakDelegate: Sendable {
        weak var value: (any ProcessMonitorDelegate)?
    }

    private let shared = Guarded(Shared())
    private let delegate = Guarded(WeakDelegate())
    private let maximumLineLength: Int

    /// Creates a monitor; its thread starts with the first request.
    ///
    /// - Parameter maximumLineLength: The longest output line in bytes.
    init(maximumLineLength: Int) {
        self.maximumLineLength = maximumLineLength
    }

    /// Sets the receiver of the monitor's reports (held weakly).
    ///
    /// - Parameter delegate: The receiver.
    func setDelegate(_ delegate: any ProcessMonitorDelegate) {
        self.delegate.withLock { $0.value = delegate }
    }

    /// Queues a spawn; the outcome is reported to the delegate.
    ///
    /// - Parameter request: The request.
    func submit(_ request: SpawnRequest) {
        let refusal: String? = shared.withLock { shared in
            switch shared.lifecycle {
            case .finished: return "the supervisor has stopped"
            case .failed(let reason): return reason
            case .idle, .running: break
            }
            if shared.isStopRequested || shared.isTerminateRequested { return "the supervisor is stopping" }
            shared.requests.append(request)
            return nil
        }
        if let refusal {
            report(request, .failed(SupervisorError(.spawnFailed, refusal, node: request.node)))
            return
        }
        startOrWake()
    }

    /// Sends a signal to the process group led by `leader`, unless that child has been reaped already.
    ///
    /// - Parameters:
    ///   - leader: The group leader's pid (a child of this monitor).
    ///   - signal: The signal.
    /// - Returns: Whether the signal was sent.
    @discardableResult
    func signalGroup(leader: Int32, signal: Int32) -> Bool {
        shared.withLock { shared in
            guard shared.live.contains(leader) else { return false }
            return kill(-leader, signal) == 0
        }
    }

    /// Lets the thread end once no child is left; later spawn requests fail.
    func stop() {
        shared.withLock { $0.isStopRequested = true }
        wake()
    }

    /// Sends SIGKILL to every child's process group and lets the thread end once they are reaped.
    func terminate() {
        shared.withLock { shared in
            shared.isTerminateRequested = true
            for pid in shared.live { kill(-pid, SupervisorSignal.kill) }
        }
        wake()
    }

    // MARK: - Thread start and wake-up

    private final class ThreadContext: Sendable {
        let monitor: ProcessMonitor
        let wakeReadFD: Int32

        init(monitor: ProcessMonitor, wakeReadFD: Int32) {
            self.monitor = monitor
            self.wakeReadFD = wakeReadFD
        }
    }

    private func startOrWake() {
        let failure: String? = shared.withLock { shared in
            guard case .idle = shared.lifecycle else { return nil }
            var fds: [Int32] = [-1, -1]
            guard ck_nonblocking_pipe(&fds) == 0 else {
                let reason = "cannot create the monitor's wake-up pipe: \(Self.errorText(errno))"
                shared.lifecycle = .failed(reason)
                return reason
            }
            let context = Unmanaged.passRetained(ThreadContext(monitor: self, wakeReadFD: fds[0]))
            var thread = pthread_t()
            let result = pthread_create(
                &thread,
                nil,
                { raw in
                    guard let raw else { return nil }
                    let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
                    context.monitor.runLoop(wakeReadFD: context.wakeReadFD)
                    return nil
                },
                context.toOpaque()
            )
            guard result == 0 else {
                context.release()
                close(fds[0])
                close(fds[1])
                let reason = "cannot start the monitor thread: \(Self.errorText(result))"
                shared.lifecycle = .failed(reason)
                return reason
            }
            pthread_detach(thread)
            shared.lifecycle = .running(wakeFD: fds[1])
            return nil
        }
        if let failure {
            let requests = shared.withLock { shared in
                defer { shared.requests = [] }
                return shared.requests
            }
            for request in requests {
                report(request, .failed(SupervisorError(.spawnFailed, failure, node: request.node)))
            }
            return
        }
        wake()
    }

    private func wake() {
        shared.withLock { shared in
            guard case .running(let fd) = shared.lifecycle else { return }
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)  // A full pipe already means "awake".
        }
    }

    private func report(_ request: SpawnRequest, _ result: SupervisorStateMachine.SpawnResult) {
        delegate.withLock { $0.value }?.monitorCompletedSpawn(request, result: result)
    }

    // MARK: - The thread

    private struct Child {
        let serial: UInt64
        let node: String
        let pid: Int32
        let pidFD: Int32
        var pipes: [OutputPipe]
    }

    private struct OutputPipe {
        let channel: ProcessSupervisor.OutputChannel
        var fd: Int32
        var splitter: LineSplitter
    }

    private static let pollFallbackMilliseconds: Int32 = 50
    private static let readSize = 65_536

    private func runLoop(wakeReadFD: Int32) {
        var watchdogFD: Int32 = -1
        var watchdogError: Int32 = 0
        // Without a watchdog, nodes still die with the supervisor; only their descendants might not.
        let watchdogPID = ck_watchdog_start(&watchdogFD, &watchdogError)
        let watchdog = watchdogPID > 0 ? watchdogFD : -1
        var children: [Child] = []
        var readBuffer = [UInt8](repeating: 0, count: Self.readSize)
        var hasKilledAll = false
        while true {
            let (requests, isStopping, isTerminating) = shared.withLock { shared in
                defer { shared.requests = [] }
                return (shared.requests, shared.isStopRequested, shared.isTerminateRequested)
            }
            if isTerminating, !hasKilledAll {
                hasKilledAll = true
                terminate()
            }
            for request in requests {
                if let child = spawn(request, watchdog: watchdog) { children.append(child) }
            }
            if isStopping || isTerminating, children.isEmpty { break }

            var pollFDs = [pollfd(fd: wakeReadFD, events: Int16(POLLIN), revents: 0)]
            var usesFallback = false
            for child in children {
                if child.pidFD >= 0 {
                    pollFDs.append(pollfd(fd: child.pidFD, events: Int16(POLLIN), revents: 0))
                } else {
                    usesFallback = true
                }
                for pipe in child.pipes where pipe.fd >= 0 {
                    pollFDs.append(pollfd(fd: pipe.fd, events: Int16(POLLIN), revents: 0))
                }
            }
            let timeout = usesFallback ? Self.pollFallbackMilliseconds : -1
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                // Not expected; do not spin.
                usleep(10_000)
                continue
            }
            let readyFDs = Set(pollFDs.filter { $0.revents != 0 }.map(\.fd))
            if readyFDs.contains(wakeReadFD) { drainWakePipe(wakeReadFD, buffer: &readBuffer) }

            var index = 0
            while index < children.count {
                for pipeIndex in children[index].pipes.indices
                where readyFDs.contains(children[index].pipes[pipeIndex].fd) {
                    readOnce(&children[index], pipeIndex, buffer: &readBuffer)
                }
                let child = children[index]
                if child.pidFD < 0 || readyFDs.contains(child.pidFD), let termination = reap(child.pid) {
                    if watchdog >= 0 { ck_watchdog_register(watchdog, -child.pid) }
                    var finished = children.remove(at: index)
                    drainAndClose(&finished, buffer: &readBuffer)
                    if finished.pidFD >= 0 { close(finished.pidFD) }
                    delegate.withLock { $0.value }?
                        .monitorObservedExit(serial: finished.serial, pid: finished.pid, termination: termination)
                    continue
                }
                index += 1
            }
        }
        for var child in children {
            drainAndClose(&child, buffer: &readBuffer)
            if child.pidFD >= 0 { close(child.pidFD) }
        }
        shared.withLock { shared in
            if case .running(let fd) = shared.lifecycle { close(fd) }
            shared.lifecycle = .finished
        }
        close(wakeReadFD)
        if watchdog >= 0 { ck_watchdog_stop(watchdog, watchdogPID) }
    }

    private func drainWakePipe(_ fd: Int32, buffer: inout [UInt8]) {
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Reaps an exited child after killing what is left of its process group; `nil` while the child runs.
    ///
    /// The group is killed while the unreaped leader still holds the group id, so the id cannot have been reused.
    /// Runs under the lock, so that ``signalGroup(leader:signal:)`` never signals a group id that was freed.
    private func reap(_ pid: Int32) -> ProcessSupervisor.Termination? {
        shared.withLock { shared in
            switch ck_has_exited(pid) {
            case 0:
                return nil
            case 1:
                kill(-pid, SupervisorSignal.kill)
                var status: Int32 = 0
                let result = ck_reap(pid, &status)
                shared.live.remove(pid)
                return result == pid ? Self.termination(status) : .unknown
            default:
                // Reaped by someone else (a `waitpid(-1)` elsewhere in the process): the status is lost.
                shared.live.remove(pid)
                return .unknown
            }
        }
    }

    private static func termination(_ status: Int32) -> ProcessSupervisor.Termination {
        if ck_status_exited(status) != 0 { return .exited(status: ck_status_exit_code(status)) }
        if ck_status_signaled(status) != 0 { return .signaled(signal: ck_status_signal(status)) }
        return .unknown
    }

    private func readOnce(_ child: inout Child, _ pipeIndex: Int, buffer: inout [UInt8]) {
        let fd = child.pipes[pipeIndex].fd
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            let lines = child.pipes[pipeIndex].splitter.append(buffer[0..<count])
            deliver(lines, node: child.node, channel: child.pipes[pipeIndex].channel)
        } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            closePipe(&child, pipeIndex)
        }
    }

    /// Reads what the pipes still hold (the exited child's last output), then closes them, as Zeek's stem does.
    private func drainAndClose(_ child: inout Child, buffer: inout [UInt8]) {
        for pipeIndex in child.pipes.indices where child.pipes[pipeIndex].fd >= 0 {
            // Bounded: a surviving writer cannot keep the thread here.
            var budget = 16
            while budget > 0, child.pipes[pipeIndex].fd >= 0 {
                let fd = child.pipes[pipeIndex].fd
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                let lines = child.pipes[pipeIndex].splitter.append(buffer[0..<count])
                deliver(lines, node: child.node, channel: child.pipes[pipeIndex].channel)
                budget -= 1
            }
            closePipe(&child, pipeIndex)
        }
    }

    private func closePipe(_ child: inout Child, _ pipeIndex: Int) {
        guard child.pipes[pipeIndex].fd >= 0 else { return }
        close(child.pipes[pipeIndex].fd)
        child.pipes[pipeIndex].fd = -1
        if let rest = child.pipes[pipeIndex].splitter.finish() {
            deliver([rest], node: child.node, channel: child.pipes[pipeIndex].channel)
        }
    }

    private func deliver(_ lines: [[UInt8]], node: String, channel: ProcessSupervisor.OutputChannel) {
        guard !lines.isEmpty, let delegate = delegate.withLock({ $0.value }) else { return }
        for line in lines { delegate.monitorReadLine(node: node, channel: channel, bytes: line) }
    }

    // MARK: - Spawning

    /// Writes the request's file, creates the pipes and forks; registers the new process group with the watchdog,
    /// reports the outcome and returns the new child.
    private func spawn(_ request: SpawnRequest, watchdog: Int32) -> Child? {
        if let file = request.file, let failure = Self.writeFile(file) {
            report(request, .failed(SupervisorError(.spawnFailed, failure, node: request.node)))
            return nil
        }
        var stdoutFDs: [Int32] = [-1, -1]
        var stderrFDs: [Int32] = [-1, -1]
        guard ck_output_pipe(&stdoutFDs) == 0 else {
            report(
                request,
                .failed(SupervisorError(.spawnFailed, "pipe: \(Self.errorText(errno))", node: request.node))
            )
            return nil
        }
        guard ck_output_pipe(&stderrFDs) == 0 else {
            let reason = Self.errorText(errno)
            for fd in stdoutFDs { close(fd) }
            report(request, .failed(SupervisorError(.spawnFailed, "pipe: \(reason)", node: request.node)))
            return nil
        }
        var gate: Int32 = -1
        let (pid, error) = Self.fork(request, stdoutFD: stdoutFDs[1], stderrFD: stderrFDs[1], gate: &gate)
        close(stdoutFDs[1])
        close(stderrFDs[1])
        guard pid > 0 else {
            close(stdoutFDs[0])
            close(stderrFDs[0])
            let message = "fork: \(Self.errorText(error))"
            report(request, .failed(SupervisorError(.spawnFailed, message, node: request.node)))
            return nil
        }
        shared.withLock { _ = $0.live.insert(pid) }
        if watchdog >= 0 { ck_watchdog_register(watchdog, pid) }
        // The child waits at the gate until its group is known to the watchdog.
        close(gate)
        let pidFD = ck_pidfd_open(pid)
        let child = Child(
            serial: request.key.serial,
            node: request.node,
            pid: pid,
            pidFD: pidFD,
            pipes: [
                OutputPipe(
                    channel: .stdout,
                    fd: stdoutFDs[0],
                    splitter: LineSplitter(maximumLineLength: maximumLineLength)
                ),
                OutputPipe(
                    channel: .stderr,
                    fd: stderrFDs[0],
                    splitter: LineSplitter(maximumLineLength: maximumLineLength)
                ),
            ]
        )
        report(request, .spawned(pid: pid))
        return child
    }

    /// Forks and executes the request's program with `ck_spawn` (internal for tests).
    ///
    /// - Parameters:
    ///   - request: What to run.
    ///   - stdoutFD: The write end of the standard output pipe.
    ///   - stderrFD: The write end of the standard error pipe.
    ///   - gate: Receives the gate's write end; the child waits until it is closed.
    /// - Returns: The child's pid (-1 on failure) and the `errno` value of a failure.
    static func fork(
        _ request: SpawnRequest,
        stdoutFD: Int32,
        stderrFD: Int32,
        gate: inout Int32
    ) -> (pid: Int32, error: Int32) {
        var arguments = CStringArray(request.arguments)
        var environment = CStringArray(request.environment)
        defer {
            arguments.deallocate()
            environment.deallocate()
        }
        var error: Int32 = 0
        let affinity = request.cpuAffinity.map { Int32(exactly: $0) ?? -1 }
        let pid = request.executable.withCString { executable in
            request.node.withCString { node in
                withOptionalCString(request.directory) { directory in
                    withOptionalCString(request.stdoutFile) { stdoutFile in
                        withOptionalCString(request.stderrFile) { stderrFile in
                            var spawnRequest = ck_spawn_request(
                                executable: executable,
                                argv: arguments.pointer,
                                envp: environment.pointer,
                                node_name: node,
                                directory: directory,
                                stdout_file: stdoutFile,
                                stderr_file: stderrFile,
                                stdout_fd: stdoutFD,
                                stderr_fd: stderrFD,
                                has_cpu_affinity: affinity == nil ? 0 : 1,
                                cpu_affinity: affinity ?? 0,
                                parent_death_signal: request.parentDeathSignal ?? 0
                            )
                            return ck_spawn(&spawnRequest, &gate, &error)
                        }
                    }
                }
            }
        }
        return (pid, error)
    }

    /// Writes a file atomically (a temporary file in the same directory renamed over it, never following a
    /// symbolic link; mode 0600), creating its directory (mode 0700) first; returns a reason on failure.
    private static func writeFile(_ file: SpawnRequest.File) -> String? {
        guard WorkingDirectory.ensureIntermediateDirectories(file.directory, mode: 0o700) else {
            return "cannot create directory \(file.directory): \(errorText(errno))"
        }
        do {
            try LocalFile.writeAtomically(file.contents, to: file.path, permissions: 0o600)
            return nil
        } catch {
            return error.description
        }
    }

    /// The text of an `errno` value.
    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}

/// A NULL-terminated array of C strings, owned until ``deallocate()``.
private struct CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        pointer = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { (pointer + index).initialize(to: strdup(string)) }
        (pointer + strings.count).initialize(to: nil)
    }

    mutating func deallocate() {
        var index = 0
        while let string = pointer[index] {
            free(string)
            index += 1
        }
        pointer.deallocate()
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
