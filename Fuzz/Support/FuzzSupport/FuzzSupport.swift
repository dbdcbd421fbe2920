import CFuzzSupport

// What every fuzz target shares (Docs/fuzzing.md): the entry point that hands libFuzzer the target's check.
#if canImport(Glibc)
import Glibc
#endif

/// The running target's check; set once, before libFuzzer starts, and read by libFuzzer's one thread.
nonisolated(unsafe) private var check: ((UnsafeBufferPointer<UInt8>) -> Void)?

/// Runs libFuzzer with the process's arguments on `test`, then exits with libFuzzer's status.
///
/// A target calls it from its `main.swift`. `test` gets each input; a broken property is a `fatalError`, which
/// libFuzzer reports as a crash with the input that caused it.
///
/// - Parameter test: The check of one input.
public func runFuzzer(_ test: @escaping (UnsafeBufferPointer<UInt8>) -> Void) -> Never {
    check = test
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        check?(UnsafeBufferPointer(start: data, count: size))
        return 0
    }
    exit(status)
}
