import ClusterKitLayouts
public import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension ControllerClient {
    /// ClusterKit's `get_node_processes`: every node's process (``ClusterKitControllerAPI``).
    ///
    /// - Parameter timeout: How long to wait; `nil` for the dispatcher's timeout. Zeek's controller never
    ///   answers, so keep it short when the controller may be Zeek's.
    /// - Returns: The statuses, sorted by name as the controller sends them.
    /// - Throws: ``CallError`` when no (valid) response came.
    public func getNodeProcesses(timeout: Duration? = nil) async throws -> [NodeProcessStatus] {
        let request = ClusterKitControllerAPI.getNodeProcessesRequest
        let answer = try await clusterKitCall(request, ClusterKitControllerAPI.getNodeProcessesResponse, timeout)
        do {
            return try [NodeProcessStatus](brokerValue: answer)
        } catch {
            throw CallError(request: request, message: "invalid node process statuses: \(error)")
        }
    }

    /// ClusterKit's `shutdown`: the controller answers with its pid and its nodes' pids, then stops its nodes
    /// and exits.
    ///
    /// - Parameter timeout: How long to wait for the answer; `nil` for the dispatcher's timeout.
    /// - Returns: The process ids, the controller's first.
    /// - Throws: ``CallError`` when no (valid) response came.
    public func shutdownController(timeout: Duration? = nil) async throws -> [Int] {
        let request = ClusterKitControllerAPI.shutdownRequest
        let answer = try await clusterKitCall(request, ClusterKitControllerAPI.shutdownResponse, timeout)
        guard case .vector(let values) = answer else {
            throw CallError(request: request, message: "invalid process ids: \(Broker.JSON.encode(answer))")
        }
        return try values.map { value in
            guard case .count(let pid) = value, pid > 0, pid <= UInt64(Int32.max) else {
                throw CallError(request: request, message: "invalid process id: \(Broker.JSON.encode(value))")
            }
            return Int(pid)
        }
    }

    private func clusterKitCall(
        _ request: String,
        _ response: String,
        _ timeout: Duration?
    ) async throws -> Broker.Value {
        let limit = timeout ?? dispatcher.options.timeout
        guard
            let answer = try await dispatcher.request(
                request,
                [],
                on: ClusterKitControllerAPI.topic,
                response: response,
                timeout: limit
            )
        else {
            throw CallError(request: request, message: "no response within \(limit.textForPeople)")
        }
        guard answer.count == 2 else {
            throw CallError(request: request, message: "response has \(answer.count) arguments, expected 2")
        }
        return answer[1]
    }
}
