// libFuzzer target `layout-script` (Docs/fuzzing.md): `cluster-layout.zeek` and `.bro` reading.
//
// Checks, beyond not crashing: reading always terminates (libFuzzer's -timeout), the node limit holds, and every
// issue is one line. The first input byte picks the file name, so both the Zeek and the Bro dialects are read.
import ClusterKitLayouts
import ClusterKitModel
import FuzzSupport

/// Checks one input.
func layoutScriptFuzz(_ input: UnsafeBufferPointer<UInt8>) {
    let bytes = input
    let file = bytes.first == UInt8(ascii: "#") ? "cluster-layout.bro" : "cluster-layout.zeek"
    let text = String(decoding: bytes, as: UTF8.self)
    var options = LayoutValidator.Options.standard
    options.limits = .fuzzing
    let loaded = LayoutLoader(options: options).load(text: text, file: file, format: .layout)
    guard loaded.layout.nodes.count <= LayoutLimits.fuzzing.maximumNodes else {
        fatalError("\(loaded.layout.nodes.count) nodes, over the limit of \(LayoutLimits.fuzzing.maximumNodes)")
    }
    for issue in loaded.issues where issue.description.contains("\n") {
        fatalError("issue is not one line: \(issue.description)")
    }
}

runFuzzer(layoutScriptFuzz)
