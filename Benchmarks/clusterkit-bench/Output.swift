#if canImport(Glibc)
import Glibc
#endif

/// Writes benchmark text to the standard streams.
enum FileHandleOutput {
    static func standardError(_ text: String) {
        fputs(text, stderr)
    }
}
