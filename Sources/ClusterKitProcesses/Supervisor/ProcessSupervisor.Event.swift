public import ClusterKitModel

extension ProcessSupervisor {
    /// How a node process ended.
    public enum Termination: Sendable, Hashable {
        /// The process exited with a status (`WEXITSTATUS`).
        case exited(status: Int32)
        /// The process was killed by a signal (`WTERMSIG`).
        case signaled(signal: Int32)
        /// The process was reaped elsewhere, so its status is unknown.
        case unknown
    }

    /// Something the supervisor observed or did, in the order it happened.
    ///
    /// The `description` of each event is a log line; where Zeek's supervisor logs the same event the text is
    /// Zeek's, for example `Supervised node 'worker-1' (PID 4711) terminated prematurely by signal 9`.
    public enum Event: Sendable, Hashable {
        /// Zeek's `Supervisor::node_status(node, pid)`: sent after every spawn attempt of a node (its first start,
        /// each revival, each restart); `pid` is 0 when the spawn failed.
        case nodeStatus(node: String, pid: Int)
        /// A node exited without being asked to (the supervisor revives it after the back-off delay).
        case prematureExit(node: String, pid: Int, termination: Termination)
        /// A node that exited prematurely will be started again after `delay` (Zeek's revival back-off), right
        /// after its ``prematureExit(node:pid:termination:)``.
        case revivalScheduled(node: String, delay: Duration)
        /// A node that had exited prematurely was started again.
        case revived(node: String, pid: Int)
        /// A node process could not be started; a ``nodeStatus(node:pid:)`` with pid 0 follows.
        case spawnFailed(node: String, error: SupervisorError)
        /// A stop signal was sent to a node's process group (attempt 0 first).
        case signalSent(node: String, pid: Int, signal: Int32, attempt: Int)
        /// A node stopped by ``ProcessSupervisor/destroy(_:)``, ``ProcessSupervisor/restart(_:)`` or
        /// ``ProcessSupervisor/shutdown(timeout:)`` has exited.
        case stopped(node: String, pid: Int, termination: Termination)

        /// The name of the node the event is about.
        public var node: String {
            switch self {
            case .nodeStatus(let node, _), .prematureExit(let node, _, _), .revivalScheduled(let node, _),
                .revived(let node, _), .spawnFailed(let node, _), .signalSent(let node, _, _, _),
                .stopped(let node, _, _):
                node
            }
        }
    }
}

extension ProcessSupervisor.Event: CustomStringConvertible {
    /// The event as a log line, in Zeek's words where Zeek logs it.
    public var description: String {
        switch self {
        case .nodeStatus(let node, let pid):
            "Supervisor::node_status('\(node)', \(pid))"
        case .prematureExit(let node, let pid, .exited(let status)):
            "Supervised node '\(node)' (PID \(pid)) exited prematurely with status \(status)"
        case .prematureExit(let node, let pid, .signaled(let signal)):
            "Supervised node '\(node)' (PID \(pid)) terminated prematurely by signal \(signal)"
        case .prematureExit(let node, let pid, .unknown):
            "Stem failed to get node exit status '\(node)' (PID \(pid))"
        case .revivalScheduled(let node, let delay):
            "Supervised node '\(node)' will be revived in \(delay.components.seconds) s"
        case .revived(let node, let pid):
            "Supervised node '\(node)' (PID \(pid)) revived after premature exit"
        case .spawnFailed(let node, let error):
            "failed to spawn node '\(node)': \(error.message)"
        case .signalSent(let node, let pid, let signal, let attempt):
            "sent signal \(signal) to node '\(node)' (PID \(pid)), attempt \(attempt)"
        case .stopped(let node, let pid, .exited(let status)):
            "Supervised node '\(node)' (PID \(pid)) stopped, exit status \(status)"
        case .stopped(let node, let pid, .signaled(let signal)):
            "Supervised node '\(node)' (PID \(pid)) stopped by signal \(signal)"
        case .stopped(let node, let pid, .unknown):
            "Supervised node '\(node)' (PID \(pid)) stopped"
        }
    }
}
