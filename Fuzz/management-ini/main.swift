// libFuzzer target `management-ini` (Docs/fuzzing.md): Management INI files through the configparser-compatible
// reader and validation, as `zeekctl check x.ini` and the controller read them.
//
// Checks, beyond not crashing: the limits hold, every issue is one line, and a configuration the validator
// accepts survives a trip through its Broker value.
import ClusterKitLayouts
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func managementINIFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    var options = LayoutValidator.Options.standard
    options.limits = .fuzzing
    let loaded = LayoutLoader(options: options).load(text: text, file: "cluster.ini", format: .ini)
    guard loaded.layout.nodes.count <= LayoutLimits.fuzzing.maximumNodes else {
        fatalError("\(loaded.layout.nodes.count) nodes, over the limit of \(LayoutLimits.fuzzing.maximumNodes)")
    }
    for issue in loaded.issues where issue.description.contains("\n") {
        fatalError("issue is not one line: \(issue.description)")
    }
    if let configuration = loaded.configuration {
        guard let again = try? Management.Configuration(brokerValue: configuration.brokerValue) else {
            fatalError("a configuration does not read back from its Broker value")
        }
        // `instances` and `nodes` are sets in Zeek's record: they come back in Broker's order, not the file's.
        guard again.id == configuration.id, Set(again.instances) == Set(configuration.instances),
            Set(again.nodes) == Set(configuration.nodes)
        else { fatalError("a configuration changed through its Broker value") }
    }
}

runFuzzer(managementINIFuzz)
