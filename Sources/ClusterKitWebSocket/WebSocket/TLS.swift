import CClusterKitSupport

#if canImport(Glibc)
import Glibc
#endif

/// The system's OpenSSL 3, loaded on first use (`libssl.so.3` and `libcrypto.so.3`, or the files named by
/// `CLUSTERKIT_LIBSSL` and `CLUSTERKIT_LIBCRYPTO`).
enum TLSLibrary {
    /// The libssl file looked for.
    static var libsslPath: String { environment("CLUSTERKIT_LIBSSL") ?? "libssl.so.3" }
    /// The libcrypto file looked for.
    static var libcryptoPath: String { environment("CLUSTERKIT_LIBCRYPTO") ?? "libcrypto.so.3" }

    /// Loads the libraries (once per process).
    ///
    /// - Throws: ``WebSocketError`` with code `tlsUnavailable`, naming the file that could not be loaded.
    static func load() throws(WebSocketError) {
        var error = [CChar](repeating: 0, count: 512)
        let status = ck_tls_load(libsslPath, libcryptoPath, &error, error.count)
        guard status == 0 else {
            throw WebSocketError(.tlsUnavailable, "TLS needs OpenSSL 3: \(text(error))")
        }
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// A C string buffer as text.
    static func text(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { pointer in
            guard let base = pointer.baseAddress else { return "" }
            return String(cString: base)
        }
    }
}

/// An OpenSSL context (`SSL_CTX`): certificates, trusted CAs, verification and ciphers, shared by sessions.
///
/// The context is only read once made (OpenSSL allows `SSL_new` from any thread on a finished `SSL_CTX`), and it is
/// freed once, in `deinit`, when no session can be made from it any more.
// Safe because the pointer is never changed after init and OpenSSL makes a finished SSL_CTX safe to share.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    let isServer: Bool
    let verifiesPeer: Bool

    /// Makes a context.
    ///
    /// - Parameters:
    ///   - isServer: Whether it is for a server.
    ///   - certificateFile: PEM certificate chain.
    ///   - keyFile: PEM private key, unencrypted.
    ///   - caFile: Trusted CAs (PEM), or `nil` with `caPath` `nil` for the system's store.
    ///   - caPath: A hashed directory of trusted CAs.
    ///   - verifiesPeer: Client: verify the server. Server: require and verify client certificates.
    ///   - ciphers: OpenSSL cipher list for TLS 1.2.
    ///   - resumesSessions: Client: keep the newest session per `host:port` and offer it on the next connection
    ///     there (not for servers that ask for a client certificate; see CClusterKitTLS.h).
    /// - Throws: ``WebSocketError`` with code `tlsUnavailable` or `tlsFailed`.
    init(
        isServer: Bool,
        certificateFile: String?,
        keyFile: String?,
        caFile: String?,
        caPath: String?,
        verifiesPeer: Bool,
        ciphers: String?,
        resumesSessions: Bool = false
    ) throws(WebSocketError) {
        try TLSLibrary.load()
        for (what, path) in [("certificate", certificateFile), ("private key", keyFile), ("CA", caFile)] {
            guard let path else { continue }
            if access(path, R_OK) != 0 {
                throw WebSocketError(.tlsFailed, "cannot read \(what) file '\(path)': \(errorText(errno))")
            }
        }
        var error = [CChar](repeating: 0, count: 1024)
        let made = withOptionalCString(certificateFile) { certificate in
            withOptionalCString(keyFile) { key in
                withOptionalCString(caFile) { caFilePointer in
                    withOptionalCString(caPath) { caPathPointer in
                        withOptionalCString(ciphers) { ciphersPointer in
                            var options = ck_tls_context_options(
                                is_server: isServer ? 1 : 0,
                                certificate_file: certificate,
                                key_file: key,
                                ca_file: caFilePointer,
                                ca_path: caPathPointer,
                                verify_peer: verifiesPeer ? 1 : 0,
                                ciphers: ciphersPointer,
                                resumes_sessions: resumesSessions ? 1 : 0
                            )
                            return ck_tls_context_new(&options, &error, error.count)
                        }
                    }
                }
            }
        }
        guard let made else { throw WebSocketError(.tlsFailed, TLSLibrary.text(error)) }
        self.pointer = made
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit {
        ck_tls_context_free(pointer)
    }

    /// How many sessions the context keeps to resume.
    var keptSessionCount: Int { ck_tls_context_kept_sessions(pointer) }

}

/// Calls `body` with `text` as a C string, or with `nil`.
func withOptionalCString<Result>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// One connection's TLS state over memory buffers: ciphertext in, plaintext out, and back.
///
/// No I/O; used on the reactor's thread only.
final class TLSSession {
    /// What came of reading or writing plaintext.
    enum Outcome: Equatable {
        /// This many bytes of plaintext.
        case bytes(Int)
        /// More input from the peer is needed first.
        case wantsInput
        /// The peer ended TLS with close_notify.
        case closed
        /// The session failed, for this reason.
        case failed(String)
    }

    private let session: OpaquePointer
    /// Keeps the context alive as long as the session.
    private let context: TLSContext
    /// Whether the last read found no whole record: nothing more comes out until more input is fed.
    private(set) var isStarved = false
    /// Where ciphertext is copied on its way out.
    private var scratch = [UInt8](repeating: 0, count: 64 << 10)

    /// Starts a session.
    ///
    /// - Parameters:
    ///   - context: The context.
    ///   - host: A client's server name (SNI unless a literal, and the name its certificate must carry).
    ///   - sessionKey: A client's `host:port`, under which the context keeps sessions to resume (when it does).
    /// - Throws: ``WebSocketError`` with code `tlsFailed`.
    init(context: TLSContext, host: String?, sessionKey: String? = nil) throws(WebSocketError) {
        var error = [CChar](repeating: 0, count: 512)
        let verifiesHost: Int32 = host != nil && context.verifiesPeer ? 1 : 0
        let made = withOptionalCString(host) { hostPointer in
            withOptionalCString(sessionKey) { keyPointer in
                ck_tls_session_new(context.pointer, hostPointer, verifiesHost, keyPointer, &error, error.count)
            }
        }
        guard let made else { throw WebSocketError(.tlsFailed, TLSLibrary.text(error)) }
        self.session = made
        self.context = context
    }

    deinit {
        ck_tls_session_free(session)
    }

    /// Hands the session bytes read from the peer.
    ///
    /// - Parameter bytes: The bytes.
    /// - Returns: `false` when out of memory.
    func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return true }
        isStarved = false
        return ck_tls_feed(session, base, bytes.count) == 0
    }

    /// Decrypts into `buffer`.
    ///
    /// - Parameter buffer: Where the plaintext goes.
    /// - Returns: The outcome.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        guard let base = buffer.baseAddress else { return .wantsInput }
        let outcome = outcome(ck_tls_read(session, base, buffer.count))
        if outcome == .wantsInput { isStarved = true }
        return outcome
    }

    /// Encrypts from `bytes`.
    ///
    /// - Parameter bytes: The plaintext.
    /// - Returns: The outcome (`bytes(n)`: `n` bytes were taken).
    func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .bytes(0) }
        return outcome(ck_tls_write(session, base, bytes.count))
    }

    /// Advances the handshake.
    ///
    /// - Returns: `.bytes(1)` once established, else why not.
    func handshake() -> Outcome {
        outcome(Int(ck_tls_handshake(session)))
    }

    /// Moves what is to be sent to the peer to the end of `output`.
    ///
    /// - Parameter output: Where the bytes go.
    func takeOutput(into output: inout [UInt8]) {
        while ck_tls_output_pending(session) > 0 {
            let taken = scratch.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return ck_tls_take_output(session, base, buffer.count)
            }
            guard taken > 0 else { return }
            scratch.withUnsafeBufferPointer { output.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<taken])) }
        }
    }

    /// Whether fed input may still yield plaintext without more from the peer.
    var hasBufferedInput: Bool { !isStarved && ck_tls_buffered_input(session) > 0 }

    /// Whether the handshake is complete.
    var isEstablished: Bool { ck_tls_is_established(session) != 0 }

    /// Queues a close_notify alert.
    func closeNotify() { ck_tls_close_notify(session) }

    /// Marks the connection as ended in order, so that its session stays resumable (an aborted connection's
    /// session is not resumed).
    func markOrderlyEnd() { ck_tls_mark_orderly_end(session) }

    /// Whether the handshake resumed an earlier session.
    var isResumed: Bool { ck_tls_is_resumed(session) != 0 }

    /// The negotiated protocol, as in `TLSv1.3`.
    var protocolVersion: String { String(cString: ck_tls_protocol(session)) }

    private func outcome(_ result: Int) -> Outcome {
        // The codes of CClusterKitTLS.h: CK_TLS_WANT_INPUT (-1), CK_TLS_CLOSED (-2), CK_TLS_FAILED (-3).
        switch result {
        case 1...: .bytes(result)
        case -1: .wantsInput
        case -2: .closed
        default: .failed(String(cString: ck_tls_error(session)))
        }
    }
}
