import ClusterKit

extension Arguments {
    /// The identifiers of a repeatable `ID=JSON` option such as `--set`, by identifier (JSON `null`: no value).
    func zeekSettings(_ name: String) throws(UsageError) -> [String: ZeekValue?] {
        var settings: [String: ZeekValue?] = [:]
        for assignment in all(name) {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw UsageError("invalid '\(name) \(assignment)' (expected ID=JSON)")
            }
            let json = String(assignment[assignment.index(after: equals)...])
            do {
                settings[String(assignment[..<equals])] = ZeekValue.from(json: try JSONValue.parse(json))
            } catch {
                throw UsageError("invalid JSON in '\(name) \(assignment)': \(error)")
            }
        }
        return settings
    }
}
