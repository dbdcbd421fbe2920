import ClusterKitLayouts
import ClusterKitModel
import ClusterKitProcesses
import ClusterKitWebSocket

extension RequestIDGenerator {
    /// Ids like Zeek's `unique_id("")` made by ``UniqueID``: what the controller and agents use.
    static var uniqueIDs: RequestIDGenerator {
        RequestIDGenerator { RequestID(UniqueID.make()) }
    }
}
