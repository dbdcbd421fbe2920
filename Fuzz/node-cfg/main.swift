// libFuzzer target `node-cfg` (Docs/fuzzing.md): ZeekControl's zeekctl.cfg and node.cfg through reading,
// `${var}` expansion, validation and layout generation.
//
// Input: the bytes up to the first NUL are a zeekctl.cfg, the rest a node.cfg (no NUL: all node.cfg).
// Checks, beyond not crashing: the node limit holds (the limits bound the work), every issue is one line, and a
// generated `cluster-layout.zeek` reads back as a layout script with the same nodes.
import ClusterKitLayouts
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func nodeCfgFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = input
    let split = bytes.firstIndex(of: 0)
    let zeekctlText = split.map { String(decoding: bytes[..<$0], as: UTF8.self) } ?? ""
    let nodeText = String(decoding: split.map { bytes[($0 + 1)...] } ?? bytes[...], as: UTF8.self)

    let cfg = ZeekctlCfg.parse(zeekctlText, file: "zeekctl.cfg")
    var options = LayoutValidator.Options.standard
    options.settings = ZeekctlSettings.resolved(from: cfg).settings
    options.limits = .fuzzing
    let loaded = LayoutLoader(options: options).load(text: nodeText, file: "node.cfg", format: .nodeCfg)

    guard loaded.layout.nodes.count <= LayoutLimits.fuzzing.maximumNodes else {
        fatalError("\(loaded.layout.nodes.count) nodes, over the limit of \(LayoutLimits.fuzzing.maximumNodes)")
    }
    for issue in loaded.issues where issue.description.contains("\n") {
        fatalError("issue is not one line: \(issue.description)")
    }

    guard let generated = try? loaded.generatedLayout() else { return }
    let script = ClusterLayoutScript.parse(generated.text, file: generated.fileName, limits: LayoutLimits.fuzzing)
    let written = Set(script.layout.nodes.map(\.name))
    let read = Set(loaded.layout.nodes.map(\.name))
    guard written == read else {
        fatalError("generated layout has nodes \(written.sorted()), the node.cfg \(read.sorted())")
    }
}

runFuzzer(nodeCfgFuzz)
