import CClusterKitSupport

#if canImport(Glibc)
import Glibc
#endif

/// Decides at accept time whether a peer on this host may connect (``WebSocketServer/LocalPeerPolicy``).
///
/// The owner of the peer's socket comes from the kernel (``ck_tcp_peer_owner``): an exact `inet_diag` lookup
/// over `NETLINK_SOCK_DIAG`, or `/proc/net/tcp` and `/proc/net/tcp6`. A peer is local when it connects from a
/// loopback address or when its socket is found on this host (another local user connecting to one of the
/// host's own addresses). Local peers are served when their socket belongs to the server's effective user or
/// to root. A loopback peer whose owner cannot be found, and a local socket whose process has already closed
/// it (the kernel then reports uid 0), are refused: the check fails closed.
enum LocalPeers {
    /// The 403 answer for a peer that may not connect, or `nil` when it may.
    static func refusal(
        of descriptor: Int32,
        policy: WebSocketServer.LocalPeerPolicy,
        sources: WebSocketServer.PeerOwnerSources
    ) -> WebSocketHandshake.Rejection? {
        guard policy == .sameUser else { return nil }
        // A peer whose address cannot be read is gone already; treating it as loopback refuses it.
        let isLoopback = ck_tcp_peer_is_loopback(descriptor) != 0
        var flags = sources.rawValue
        if isLoopback { flags |= Int32(CK_PEER_CONFIRM_ABSENCE) }
        var uid: UInt32 = 0
        let result = Int(ck_tcp_peer_owner(descriptor, flags, &uid))
        let number = errno
        switch result {
        case Int(CK_PEER_OWNER_FOUND):
            guard uid != geteuid(), uid != 0 else { return nil }
            return forbidden("connection from another user (uid \(uid))")
        case Int(CK_PEER_OWNER_ORPHANED):
            return forbidden("owner of the connection could not be determined: the peer closed its socket")
        case Int(CK_PEER_OWNER_NOT_FOUND):
            guard isLoopback else { return nil }
            return forbidden("owner of the connection could not be determined: the peer's socket was not found")
        default:
            guard isLoopback else { return nil }
            return forbidden("owner of the connection could not be determined: \(errorText(number))")
        }
    }

    private static func forbidden(_ body: String) -> WebSocketHandshake.Rejection {
        WebSocketHandshake.Rejection(status: 403, reasonPhrase: "Forbidden", body: body)
    }
}
