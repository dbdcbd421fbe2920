// ClusterKit is the umbrella: `import ClusterKit` gives the whole library under the same names, whichever layer
// a type lives in (see Docs/architecture.md, "Layers").
@_exported public import ClusterKitLayouts
@_exported public import ClusterKitModel
@_exported public import ClusterKitProcesses
@_exported public import ClusterKitRuntime
@_exported public import ClusterKitWebSocket
