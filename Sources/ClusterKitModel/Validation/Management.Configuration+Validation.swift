extension Management.Configuration {
    /// One failed check of the controller's `config_validate`.
    public struct ControllerError: Sendable, Hashable {
        /// The kind of problem.
        public var code: ValidationIssue.Code
        /// The controller's text, such as `multiple nodes named 'worker-1'`.
        public var message: String
        /// The node it is about, when there is one.
        public var node: String?
        /// The instance it is about, when there is one.
        public var instance: String?
    }

    /// Checks the configuration as the Management controller's `config_validate` does when staging it.
    ///
    /// The errors are the controller's texts, sorted by byte value (`strcmp`, so `Broker port …` comes
    /// before lower-case texts), which is the order the controller returns them in. Not checked, as by
    /// the controller: that a manager exists, the number of managers, proxies, interfaces, scripts.
    /// ClusterKit's controller checks more when staging: see ``stagingErrors(options:)``.
    ///
    /// - Note: The controller compares node ports with its own Broker port for every node; ClusterKit does
    ///   the same with ``Management/ControllerOptions/controllerPort``.
    /// - Parameter options: The controller's settings.
    /// - Returns: Every error, sorted; empty when the controller accepts the configuration.
    public func controllerErrors(options: Management.ControllerOptions = .standard) -> [ControllerError] {
        var errors: [ControllerError] = []
        var instanceNames: Set<String> = []
        var reportedInstances: Set<String> = []
        for instance in instances {
            if instanceNames.insert(instance.name).inserted { continue }
            if reportedInstances.insert(instance.name).inserted {
                errors.append(
                    ControllerError(
                        code: .duplicateInstance,
                        message: "multiple instances named '\(instance.name)'",
                        instance: instance.name
                    )
                )
            }
        }
        var nodeNames: Set<String> = []
        var reportedNodes: Set<String> = []
        for node in nodes {
            if nodeNames.insert(node.name).inserted { continue }
            if reportedNodes.insert(node.name).inserted {
                errors.append(
                    ControllerError(
                        code: .duplicateNodeName,
                        message: "multiple nodes named '\(node.name)'",
                        node: node.name
                    )
                )
            }
        }
        let both = instanceNames.intersection(nodeNames).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if !both.isEmpty {
            errors.append(
                ControllerError(
                    code: .nameCollision,
                    message: "node and instance names collide: \(both.joined(separator: ", "))"
                )
            )
        }
        var instancesByName: [String: Management.Instance] = [:]
        for instance in instances where instancesByName[instance.name] == nil {
            instancesByName[instance.name] = instance
        }
        var portsByInstance: [String: Set<UInt16>] = [:]
        for node in nodes {
            guard let instance = instancesByName[node.instance] else {
                errors.append(
                    ControllerError(
                        code: .undeclaredInstance,
                        message: "node '\(node.name)' has undeclared instance name '\(node.instance)'",
                        node: node.name,
                        instance: node.instance
                    )
                )
                continue
            }
            guard let port = node.p else { continue }
            if let agentPort = instance.listenPort, agentPort.number == port.number {
                errors.append(
                    ControllerError(
                        code: .agentPortConflict,
                        message:
                            "node '\(node.name)' port \(port) conflicts with agent port on instance '\(instance.name)'",
                        node: node.name,
                        instance: instance.name
                    )
                )
            }
            if port.number == options.controllerPort.number {
                errors.append(
                    ControllerError(
                        code: .controllerPortConflict,
                        message: "node '\(node.name)' port \(port) conflicts with controller port",
                        node: node.name
                    )
                )
            }
            if !portsByInstance[instance.name, default: []].insert(port.number).inserted {
                errors.append(
                    ControllerError(
                        code: .duplicateInstancePort,
                        message: "multiple nodes on instance '\(instance.name)' using port \(port)",
                        node: node.name,
                        instance: instance.name
                    )
                )
            }
        }
        if !options.autoAssignBrokerPorts {
            let lacking = nodes.filter { $0.p == nil && [.manager, .logger, .proxy].contains($0.role) }
                .map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if !lacking.isEmpty {
                let prefix = options.zeekVersion >= ZeekVersion(7, 0) ? "Broker port" : "port"
                errors.append(
                    ControllerError(
                        code: .missingPorts,
                        message:
                            "\(prefix) auto-assignment disabled but nodes \(lacking.joined(separator: ", ")) lack ports"
                    )
                )
            }
        }
        return errors.sorted { $0.message.utf8.lexicographicallyPrecedes($1.message.utf8) }
    }
}

extension Management.Configuration {
    /// Checks the configuration as ClusterKit's controller does when staging it: Zeek's checks
    /// (``controllerErrors(options:)``) and ClusterKit's (``clusterKitErrors(options:)``), all sorted by byte
    /// value as Zeek's are.
    ///
    /// A configuration over a limit of ``Management/ControllerOptions`` gets only the limit's error, so that
    /// checking it costs little whatever its size.
    ///
    /// - Complexity: O(n log n) in the number of instances and nodes (and linear in their text).
    /// - Parameter options: The controller's settings.
    /// - Returns: Every error, sorted; empty when the controller accepts the configuration.
    public func stagingErrors(options: Management.ControllerOptions = .standard) -> [ControllerError] {
        let limits = limitErrors(options: options)
        guard limits.isEmpty else { return limits }
        return (controllerErrors(options: options) + clusterKitErrors(options: options))
            .sorted { $0.message.utf8.lexicographicallyPrecedes($1.message.utf8) }
    }

    /// ClusterKit's own checks of a configuration, which Zeek's controller does not make.
    ///
    /// - **Limits.** More than ``Management/ControllerOptions/maximumInstances`` instances or
    ///   ``Management/ControllerOptions/maximumNodes`` nodes: `configuration has 300 instances, more than the
    ///   limit of 256`.
    /// - **Names.** Node and instance names are 1 to 255 bytes of `[A-Za-z0-9._-]` and neither `.` nor `..`,
    ///   since they become file and directory names: `node name 'a/b' has characters outside [A-Za-z0-9._-]`,
    ///   `instance name '..' is not allowed`, `node name is empty`.
    /// - **Environment.** Each node's `env` entries pass ``environmentProblem(key:value:)``:
    ///   `node 'worker-1' env key 'LD_PRELOAD' is reserved`.
    ///
    /// User text in the messages has its control characters escaped (`\n`, `\u{1b}`).
    ///
    /// - Parameter options: The controller's settings (the limits).
    /// - Returns: Every error, in configuration order.
    public func clusterKitErrors(options: Management.ControllerOptions = .standard) -> [ControllerError] {
        var errors = limitErrors(options: options)
        for instance in instances {
            if let problem = Self.nameProblem(instance.name, kind: "instance") {
                errors.append(ControllerError(code: .invalidName, message: problem, instance: instance.name))
            }
        }
        for node in nodes {
            if let problem = Self.nameProblem(node.name, kind: "node") {
                errors.append(ControllerError(code: .invalidName, message: problem, node: node.name))
            }
            for key in node.env.keys.sorted() {
                guard let problem = Self.environmentProblem(key: key, value: node.env[key] ?? "") else { continue }
                errors.append(
                    ControllerError(
                        code: .refusedEnvironmentVariable,
                        message: "node '\(node.name.escapingControlCharacters)' \(problem)",
                        node: node.name
                    )
                )
            }
        }
        return errors
    }

    private func limitErrors(options: Management.ControllerOptions) -> [ControllerError] {
        var errors: [ControllerError] = []
        if instances.count > options.maximumInstances {
            errors.append(
                ControllerError(
                    code: .tooManyInstances,
                    message:
                        "configuration has \(instances.count) instances, more than the limit of \(options.maximumInstances)"
                )
            )
        }
        if nodes.count > options.maximumNodes {
            errors.append(
                ControllerError(
                    code: .tooManyNodes,
                    message: "configuration has \(nodes.count) nodes, more than the limit of \(options.maximumNodes)"
                )
            )
        }
        return errors
    }
}

extension Management.Configuration {
    /// Environment variables a node's `env` may not set, whatever the prefix rules say.
    ///
    /// `PATH`; `CLUSTER_NODE`, which the supervisor sets; `BASH_ENV` and `ENV`, which make shells run a
    /// file; and every variable glibc itself distrusts in privileged programs besides `LD_*`
    /// (`UNSECURE_ENVVARS`: `GCONV_PATH` loads code, the others name files the C library reads).
    public static let reservedEnvironmentNames: Set<String> = [
        "PATH", "CLUSTER_NODE", "BASH_ENV", "ENV",
        "GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE",
        "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF", "RES_OPTIONS", "TMPDIR", "TZDIR",
    ]

    /// Prefixes of environment variables a node's `env` may not set: `LD_` (the dynamic loader's, such as
    /// `LD_PRELOAD`), `ZEEK` (Zeek's own, such as `ZEEKPATH` and `ZEEK_PLUGIN_PATH`) and `CLUSTERKIT_`
    /// (ClusterKit's, such as `CLUSTERKIT_NODE_CONFIG`).
    public static let reservedEnvironmentPrefixes = ["LD_", "ZEEK", "CLUSTERKIT_"]

    /// Why the controller refuses a node `env` entry, or `nil` when it accepts it.
    ///
    /// The rule: the key is a portable variable name, `[A-Za-z_][A-Za-z0-9_]*` (so never empty, and never
    /// holding `=` or NUL, which would shadow other variables), and is neither in
    /// ``reservedEnvironmentNames`` nor starts with one of ``reservedEnvironmentPrefixes`` (compared
    /// exactly: environment names are case-sensitive); the value holds no NUL byte, which would cut it
    /// short. Zeek's controller accepts any entry, so any client could make every node load a library
    /// with `LD_PRELOAD`.
    ///
    /// - Parameters:
    ///   - key: The variable's name.
    ///   - value: Its value.
    /// - Returns: The problem, as in `env key 'LD_PRELOAD' is reserved`; `nil` when the entry is accepted.
    public static func environmentProblem(key: String, value: String) -> String? {
        let shown = key.escapingControlCharacters
        guard key.isVariableName else {
            return "env key '\(shown)' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
        }
        if reservedEnvironmentNames.contains(key) || reservedEnvironmentPrefixes.contains(where: key.hasPrefix) {
            return "env key '\(shown)' is reserved"
        }
        if value.utf8.contains(0) { return "env value of '\(shown)' holds a NUL byte" }
        return nil
    }

    /// Why a node or instance name is refused, or `nil`: 1 to 255 bytes of `[A-Za-z0-9._-]`, not `.` or `..`.
    static func nameProblem(_ name: String, kind: String) -> String? {
        if name.isEmpty { return "\(kind) name is empty" }
        let shown = name.utf8.count > 64 ? String(name.prefix(64)) + "..." : name
        let quoted = "\(kind) name '\(shown.escapingControlCharacters)'"
        if name == "." || name == ".." { return "\(quoted) is not allowed" }
        if name.utf8.count > 255 { return "\(quoted) is longer than 255 bytes" }
        let allowed = name.utf8.allSatisfy { byte in
            isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "\(quoted) has characters outside [A-Za-z0-9._-]"
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
