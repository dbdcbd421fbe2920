import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension Management.Result {
    /// The result with data that is not a string replaced by its Broker JSON text, as a node's `get_id_value`
    /// result reaches `zeek-client`: the agents and the controller pass such data on as text.
    var renderingDataAsText: Management.Result {
        guard case let data? = data, data.stringValue == nil else { return self }
        var rendered = self
        rendered.data = .string(Broker.JSON.encode(data))
        return rendered
    }
}
