import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

/// A Management request argument that is missing or of the wrong type, as a failed result's error text
/// (`stage_configuration_request: argument 2 (config) is not a Management::Configuration: …`).
///
/// Zeek's WebSocket server refuses such an event before any handler sees it; the controller and the agents answer
/// it instead (see `Docs/architecture.md`).
struct RequestArgumentError: Error, CustomStringConvertible {
    var description: String

    /// Reads argument `index` of a request named `request`; `defaultValue` stands in when it is missing.
    ///
    /// - Parameters:
    ///   - arguments: The event's arguments.
    ///   - index: The argument's position, from 0.
    ///   - name: Its name in Zeek's declaration.
    ///   - typeName: Its type for people (`a bool`, `a Management::Configuration`).
    ///   - request: The request's name in the error text.
    ///   - defaultValue: The value of a missing argument, or `nil` when it must be present.
    /// - Returns: The argument.
    /// - Throws: ``RequestArgumentError`` naming the request, the argument and the problem.
    static func read<T: BrokerConvertible>(
        _ arguments: [Broker.Value],
        _ index: Int,
        _ name: String,
        _ typeName: String,
        of request: String,
        default defaultValue: T? = nil
    ) throws(RequestArgumentError) -> T {
        let position = "\(request): argument \(index + 1) (\(name))"
        guard index < arguments.count else {
            guard let defaultValue else { throw RequestArgumentError(description: "\(position) is missing") }
            return defaultValue
        }
        do {
            return try T(brokerValue: arguments[index])
        } catch {
            throw RequestArgumentError(description: "\(position) is not \(typeName): \(error)")
        }
    }
}
