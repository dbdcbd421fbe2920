import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A Swift client of the Management controller API: what `zeek-client` sends, as typed calls.
///
/// It works through a running ``Dispatcher`` (so many calls can be in flight) and waits at most the
/// dispatcher's timeout for each response; a missing response is an error naming the request.
public struct ControllerClient: Sendable {
    /// An error of a controller call that got no answer or a malformed one.
    public struct CallError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The request event.
        public var request: String
        /// What went wrong.
        public var message: String

        /// `<request>: <message>`.
        public var description: String { "\(request): \(message)" }
    }

    /// The dispatcher requests go through.
    public let dispatcher: Dispatcher

    /// Creates a client.
    ///
    /// - Parameter dispatcher: A running dispatcher whose backend subscribes to the controller topic.
    public init(dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
    }

    private func call(_ request: String, _ arguments: [Broker.Value], response: String) async throws -> Broker.Value {
        guard let answer = try await dispatcher.request(request, arguments, on: ControllerAPI.topic, response: response)
        else {
            throw CallError(
                request: request,
                message: "no response within \(dispatcher.options.timeout.textForPeople)"
            )
        }
        guard answer.count == 2 else {
            throw CallError(request: request, message: "response has \(answer.count) arguments, expected 2")
        }
        return answer[1]
    }

    private func results(_ value: Broker.Value, _ request: String) throws -> [Management.Result] {
        do {
            return try [Management.Result](brokerValue: value)
        } catch {
            throw CallError(request: request, message: "invalid results: \(error)")
        }
    }

    private func result(_ value: Broker.Value, _ request: String) throws -> Management.Result {
        do {
            return try Management.Result(brokerValue: value)
        } catch {
            throw CallError(request: request, message: "invalid result: \(error)")
        }
    }

    /// `get_instances`: the agents the controller knows.
    ///
    /// - Returns: The result (`data` is a vector of `Management::Instance`).
    /// - Throws: ``CallError``.
    public func getInstances() async throws -> Management.Result {
        try result(
            await call(ControllerAPI.getInstancesRequest, [], response: ControllerAPI.getInstancesResponse),
            ControllerAPI.getInstancesRequest
        )
    }

    /// `get_nodes`: one result per instance, `data` a vector of `Management::NodeStatus`.
    ///
    /// - Returns: The results.
    /// - Throws: ``CallError``.
    public func getNodes() async throws -> [Management.Result] {
        try results(
            await call(ControllerAPI.getNodesRequest, [], response: ControllerAPI.getNodesResponse),
            ControllerAPI.getNodesRequest
        )
    }

    /// `get_id_value`: the identifier's `to_json` text from each node.
    ///
    /// - Parameters:
    ///   - id: The identifier.
    ///   - nodes: The nodes to ask; empty means all.
    /// - Returns: The results.
    /// - Throws: ``CallError``.
    public func getIDValue(_ id: String, nodes: Set<String> = []) async throws -> [Management.Result] {
        try results(
            await call(
                ControllerAPI.getIDValueRequest,
                [.string(id), nodes.brokerValue],
                response: ControllerAPI.getIDValueResponse
            ),
            ControllerAPI.getIDValueRequest
        )
    }

    /// `get_configuration`: the staged or deployed configuration.
    ///
    /// - Parameter deployed: Whether to ask for the deployed configuration.
    /// - Returns: The result (`data` is the configuration, or `success` is false).
    /// - Throws: ``CallError``.
    public func getConfiguration(deployed: Bool) async throws -> Management.Result {
        try result(
            await call(
                ControllerAPI.getConfigurationRequest,
                [.boolean(deployed)],
                response: ControllerAPI.getConfigurationResponse
            ),
            ControllerAPI.getConfigurationRequest
        )
    }

    /// `stage_configuration`.
    ///
    /// - Parameter configuration: The configuration.
    /// - Returns: The results: the configuration id, or one failure per validation error.
    /// - Throws: ``CallError``.
    public func stage(_ configuration: Management.Configuration) async throws -> [Management.Result] {
        try results(
            await call(
                ControllerAPI.stageConfigurationRequest,
                [configuration.brokerValue],
                response: ControllerAPI.stageConfigurationResponse
            ),
            ControllerAPI.stageConfigurationRequest
        )
    }

    /// `deploy`: deploys the staged configuration.
    ///
    /// - Returns: The agents' per-node results and the configuration id.
    /// - Throws: ``CallError``.
    public func deploy() async throws -> [Management.Result] {
        try results(
            await call(ControllerAPI.deployRequest, [], response: ControllerAPI.deployResponse),
            ControllerAPI.deployRequest
        )
    }

    /// `restart`: restarts nodes.
    ///
    /// - Parameter nodes: The nodes; empty means all.
    /// - Returns: The results.
    /// - Throws: ``CallError``.
    public func restart(_ nodes: Set<String> = []) async throws -> [Management.Result] {
        try results(
            await call(ControllerAPI.restartRequest, [nodes.brokerValue], response: ControllerAPI.restartResponse),
            ControllerAPI.restartRequest
        )
    }
}
