import CClusterKitSupport
import ClusterKitModel

#if canImport(Glibc)
import Glibc
#endif

/// Client TLS contexts, made once per ``WebSocketClient/TLSOptions`` and reused by every connection with them.
///
/// Making a context reads and parses the trusted CAs (and a client certificate and key): about a quarter of a
/// millisecond, a good part of a TLS handshake. A context also keeps the sessions its connections may resume, so
/// reusing it is what makes resumption possible at all.
///
/// A context is reused only while the files it was made from are unchanged: the key holds each file's device,
/// inode, size, modification and change times, so a CA or certificate rewritten in place, renamed over, or given
/// other permissions makes a new context at the next connection (with the system's store, its default file and
/// directory are watched). When a file cannot be examined, a context is made as before and not kept, so errors are
/// exactly those of ``WebSocketClient/TLSOptions`` without the cache. At most ``capacity`` contexts are kept, the
/// least recently used going first.
final class TLSContextCache: Sendable {
    /// The process's cache, used by ``WebSocketClient``.
    static let shared = TLSContextCache(capacity: 16)

    /// One file's identity as `stat(2)` reports it.
    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var modifiedNanoseconds: Int64
        var changed: Int64
        var changedNanoseconds: Int64
    }

    private struct Key: Hashable {
        var options: WebSocketClient.TLSOptions
        var files: [FileIdentity?]
    }

    private struct Entry {
        var key: Key
        var context: TLSContext
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Entry] = []
        var clock: UInt64 = 0
    }

    /// How many contexts are kept at most.
    let capacity: Int
    private let state = Guarded(State())

    /// Makes an empty cache.
    ///
    /// - Parameter capacity: How many contexts are kept at most.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The context for `options`: a kept one when its files are unchanged, else a new one (kept when its files
    /// could be examined).
    ///
    /// - Parameter options: The client's TLS options.
    /// - Returns: The context.
    /// - Throws: ``WebSocketError`` as ``WebSocketClient/TLSOptions`` makes it (`tlsUnavailable`, `tlsFailed`).
    func context(for options: WebSocketClient.TLSOptions) throws(WebSocketError) -> TLSContext {
        // Without OpenSSL, or with a file that cannot be examined, the context is made (and fails) as without a cache.
        guard (try? TLSLibrary.load()) != nil, let key = Self.key(for: options) else {
            return try options.makeContext()
        }
        let kept = state.withLock { state -> TLSContext? in
            guard let index = state.entries.firstIndex(where: { $0.key == key }) else { return nil }
            state.clock += 1
            state.entries[index].lastUse = state.clock
            return state.entries[index].context
        }
        if let kept { return kept }
        // Made outside the lock: two connections that miss at once both make one, and the later one is kept.
        let context = try options.makeContext()
        state.withLock { state in
            // Contexts of the same options made from files since changed are stale: they go at once.
            state.entries.removeAll { $0.key.options == options }
            if state.entries.count >= capacity,
                let oldest = state.entries.indices.min(by: {
                    state.entries[$0].lastUse < state.entries[$1].lastUse
                })
            {
                state.entries.remove(at: oldest)
            }
            state.clock += 1
            state.entries.append(Entry(key: key, context: context, lastUse: state.clock))
        }
        return context
    }

    /// How many contexts are kept.
    var count: Int { state.withLock { $0.entries.count } }

    /// The key of `options`: the options and the identity of each file they name (the system's store for none),
    /// or `nil` when a named file cannot be examined.
    private static func key(for options: WebSocketClient.TLSOptions) -> Key? {
        var files: [FileIdentity?] = []
        for path in [options.certificateFile, options.keyFile, options.caFile, options.caDirectory] {
            guard let path else {
                files.append(nil)
                continue
            }
            guard let identity = identity(of: path) else { return nil }
            files.append(identity)
        }
        if options.verifiesServer, options.caFile == nil, options.caDirectory == nil {
            // The system's store: a missing default file or directory is normal (OpenSSL skips it).
            for path in [ck_tls_default_ca_file(), ck_tls_default_ca_directory()] {
                files.append(path.flatMap { identity(of: String(cString: $0)) })
            }
        }
        return Key(options: options, files: files)
    }

    /// A file's identity, following symbolic links, or `nil` when it cannot be examined.
    static func identity(of path: String) -> FileIdentity? {
        var information = stat()
        guard stat(path, &information) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(information.st_dev),
            inode: UInt64(information.st_ino),
            size: Int64(information.st_size),
            modified: Int64(information.st_mtim.tv_sec),
            modifiedNanoseconds: Int64(information.st_mtim.tv_nsec),
            changed: Int64(information.st_ctim.tv_sec),
            changedNanoseconds: Int64(information.st_ctim.tv_nsec)
        )
    }
}
