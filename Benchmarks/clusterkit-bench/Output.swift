#if canImport(Glibc)
import Glibc
#endif

/// Writes benchmark text to the standard streams.
enum FileHandleOutput {
    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}
