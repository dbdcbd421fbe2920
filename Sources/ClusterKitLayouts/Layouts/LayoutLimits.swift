import ClusterKitModel

/// Bounds on what reading one layout may cost, so that no input makes ClusterKit hang or exhaust memory.
///
/// Each limit is generous for real deployments; going past one is an error with a location (or, for the
/// file size, a ``LayoutLoadError``), never a crash. The defaults are in ``standard``; copy it and set what
/// differs: `var limits = LayoutLimits.standard; limits.maximumNodes = 50_000`.
public struct LayoutLimits: Sendable, Hashable {
    /// The largest input file read, in bytes.
    ///
    /// Default 4 MiB (4,194,304 bytes); a node.cfg of 10,000 nodes is about 0.5 MiB. A larger file fails to
    /// load with ``LayoutLoadError/Code/fileTooLarge``; text handed to
    /// ``LayoutLoader/load(text:file:format:)`` that is larger gets one ``ValidationIssue/Code/fileTooLarge``
    /// error and is not read.
    public var maximumFileSize: Int
    /// The most nodes one layout may have: node.cfg after `lb_procs` expansion, INI node sections,
    /// `Cluster::nodes` entries of a script.
    ///
    /// Default 20,000 (a Zeek 9 folder of 100 hosts with 100 workers each, and its layout, fit twice). The
    /// sections or entries past it are left out, with one
    /// ``ValidationIssue/Code/tooManyNodes`` error at the first of them.
    public var maximumNodes: Int
    /// The largest `lb_procs` of one node.cfg section.
    ///
    /// Default 1,024 (the processes of one section share a host). A larger value is a
    /// ``ValidationIssue/Code/tooManyProcesses`` error and the section is not expanded.
    public var maximumProcessesPerSection: Int
    /// The longest text INI interpolation may make of one value, in bytes, counting each `%(name)s` it
    /// resolves as the length of that reference (so that references to empty values cost something too).
    ///
    /// Default 64 KiB (65,536 bytes). Past it the value is a ``ValidationIssue/Code/interpolationTooLarge``
    /// error.
    public var maximumInterpolatedValueSize: Int
    /// The most text INI interpolation may make in one file, over all sections and values, in bytes
    /// (counted as for ``maximumInterpolatedValueSize``).
    ///
    /// Default 16 MiB (16,777,216 bytes). Past it every further value that needs interpolation is a
    /// ``ValidationIssue/Code/interpolationTooLarge`` error.
    public var maximumInterpolatedTotalSize: Int

    /// How deep `%(name)s` references may nest: Python configparser's `MAX_INTERPOLATION_DEPTH`, 10.
    ///
    /// A deeper chain is a ``ValidationIssue/Code/badInterpolation`` error, as in Python.
    public static let maximumInterpolationDepth = 10

    /// Creates limits.
    ///
    /// - Parameters:
    ///   - maximumFileSize: The largest input file, in bytes; default 4 MiB.
    ///   - maximumNodes: The most nodes of one layout; default 20,000.
    ///   - maximumProcessesPerSection: The largest `lb_procs`; default 1,024.
    ///   - maximumInterpolatedValueSize: The longest interpolated value, in bytes; default 64 KiB.
    ///   - maximumInterpolatedTotalSize: The most interpolated text of one file, in bytes; default 16 MiB.
    public init(
        maximumFileSize: Int = 4 << 20,
        maximumNodes: Int = 20_000,
        maximumProcessesPerSection: Int = 1_024,
        maximumInterpolatedValueSize: Int = 64 << 10,
        maximumInterpolatedTotalSize: Int = 16 << 20
    ) {
        self.maximumFileSize = maximumFileSize
        self.maximumNodes = maximumNodes
        self.maximumProcessesPerSection = maximumProcessesPerSection
        self.maximumInterpolatedValueSize = maximumInterpolatedValueSize
        self.maximumInterpolatedTotalSize = maximumInterpolatedTotalSize
    }

    /// The defaults: 4 MiB files, 20,000 nodes, `lb_procs` up to 1,024, interpolation up to 64 KiB per
    /// value and 16 MiB per file.
    public static let standard = LayoutLimits()
}
