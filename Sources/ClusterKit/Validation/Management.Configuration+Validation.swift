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
