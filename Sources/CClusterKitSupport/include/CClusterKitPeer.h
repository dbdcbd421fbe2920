// CClusterKitPeer: the socket calls ClusterKit's WebSocket transport needs that Swift's Glibc module does not
// export (accept4, pipe2, getrandom need _GNU_SOURCE) and the lookup of a TCP peer's owner through the kernel's
// socket diagnostics (NETLINK_SOCK_DIAG), with /proc/net/tcp and /proc/net/tcp6 as the fallback.
#ifndef CCLUSTERKITPEER_H
#define CCLUSTERKITPEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Accepts a connection whose descriptor is close-on-exec and non-blocking from the start
/// (accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK). Returns the descriptor, or -1 with errno set.
int ck_accept_stream(int listener, struct sockaddr *address, socklen_t *length);

/// Creates a pipe whose ends are close-on-exec and non-blocking from the start (pipe2 with
/// O_CLOEXEC | O_NONBLOCK). Returns 0, or -1 with errno set.
int ck_wake_pipe(int fds[2]);

/// Fills `count` bytes from the kernel's random source (getrandom, retried on EINTR and short reads).
/// Returns 0, or -1 with errno set (ENOSYS on kernels before 3.17).
int ck_random_bytes(void *buffer, size_t count);

/// Where `ck_tcp_peer_owner` may look (a bit set).
enum {
    /// NETLINK_SOCK_DIAG: an exact inet_diag lookup of the peer's socket by address and port.
    CK_PEER_SOURCE_NETLINK = 1,
    /// /proc/net/tcp and /proc/net/tcp6, searched for the peer's socket.
    CK_PEER_SOURCE_PROC = 2,
    /// Also ask /proc when netlink finds no socket (it cannot tell that from missing TCP diagnostics); without
    /// it /proc is asked only when netlink cannot answer at all.
    CK_PEER_CONFIRM_ABSENCE = 4,
};

/// What `ck_tcp_peer_owner` found out.
enum {
    /// The peer's socket is on this host and owned by `*uid`.
    CK_PEER_OWNER_FOUND = 0,
    /// No socket with the peer's address and port exists on this host (a remote peer, or one that is gone).
    CK_PEER_OWNER_NOT_FOUND = 1,
    /// The peer's socket is on this host but has no owner any more: its process closed it (an orphaned or
    /// time-wait socket, which the kernel reports as uid 0).
    CK_PEER_OWNER_ORPHANED = 2,
    /// No source could be asked; errno tells why.
    CK_PEER_OWNER_UNKNOWN = 3,
};

/// Looks up the user owning the other end of the connected TCP socket `fd`, when that end is on this host.
///
/// The peer's socket is the one whose local address and port are `fd`'s peer address and port and whose remote
/// ones are `fd`'s local address and port. IPv4-mapped IPv6 addresses are looked up as IPv4 first. `sources` is a
/// set of CK_PEER_SOURCE_ bits and CK_PEER_CONFIRM_ABSENCE; netlink is asked first, /proc when netlink cannot
/// answer. Returns one of the CK_PEER_OWNER_ values.
int ck_tcp_peer_owner(int fd, int sources, uint32_t *uid);

/// Whether the peer address of the connected socket `fd` is a loopback address (127.0.0.0/8, ::1, or
/// ::ffff:127.0.0.0/104): 1 when it is, 0 when not, -1 with errno set when getpeername fails.
int ck_tcp_peer_is_loopback(int fd);

#ifdef __cplusplus
}
#endif

#endif
