import ClusterKitModel

extension ProcessSupervisor {
    /// The program a supervised node runs.
    ///
    /// Zeek's supervisor forks itself for each node; ClusterKit executes a program instead, chosen by a closure
    /// from the node's ``Supervisor/NodeConfig`` (for example `zeekctl node --name <name>`).
    public struct NodeCommand: Sendable, Hashable {
        /// The program: a path, or a bare name looked up in the node's `PATH`.
        ///
        /// A relative path is resolved against the node's working directory, as `execve` would after `chdir`.
        public var executable: String
        /// The arguments after the program name.
        public var arguments: [String]
        /// Environment variables for this command; the node's ``Supervisor/NodeConfig/env`` entries override them.
        public var environment: [String: String]

        /// Creates a command.
        ///
        /// - Parameters:
        ///   - executable: The program's path or bare name.
        ///   - arguments: The arguments after the program name; default none.
        ///   - environment: Extra environment variables; default none.
        public init(executable: String, arguments: [String] = [], environment: [String: String] = [:]) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
        }
    }
}
