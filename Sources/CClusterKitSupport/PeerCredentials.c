// See include/CClusterKitPeer.h. Everything here runs on a WebSocket event loop's thread: it never blocks for
// long (the netlink socket has a 1 s receive timeout) and keeps no state between calls.
#define _GNU_SOURCE
#include "CClusterKitPeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#endif

int ck_accept_stream(int listener, struct sockaddr *address, socklen_t *length) {
    return accept4(listener, address, length, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

int ck_wake_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

int ck_random_bytes(void *buffer, size_t count) {
    unsigned char *bytes = buffer;
    while (count > 0) {
        ssize_t got = getrandom(bytes, count, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        bytes += got;
        count -= (size_t)got;
    }
    return 0;
}

/// One end of a TCP connection: family, address bytes (4 or 16) in network order, port in network order.
typedef struct ck_endpoint {
    int family;
    uint8_t address[16];
    uint16_t port;
} ck_endpoint;

static int ck_read_endpoint(const struct sockaddr_storage *storage, ck_endpoint *endpoint) {
    memset(endpoint, 0, sizeof *endpoint);
    if (storage->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)storage;
        endpoint->family = AF_INET;
        memcpy(endpoint->address, &v4->sin_addr, 4);
        endpoint->port = v4->sin_port;
        return 0;
    }
    if (storage->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)storage;
        endpoint->family = AF_INET6;
        memcpy(endpoint->address, &v6->sin6_addr, 16);
        endpoint->port = v6->sin6_port;
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

static int ck_endpoints(int fd, ck_endpoint *peer, ck_endpoint *local) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof storage;
    if (getpeername(fd, (struct sockaddr *)&storage, &length) < 0 || ck_read_endpoint(&storage, peer) < 0) {
        return -1;
    }
    length = sizeof storage;
    if (getsockname(fd, (struct sockaddr *)&storage, &length) < 0 || ck_read_endpoint(&storage, local) < 0) {
        return -1;
    }
    return 0;
}

static int ck_is_v4_mapped(const ck_endpoint *endpoint) {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return endpoint->family == AF_INET6 && memcmp(endpoint->address, prefix, 12) == 0;
}

/// The IPv4 form of an IPv4-mapped endpoint.
static ck_endpoint ck_unmapped(const ck_endpoint *endpoint) {
    ck_endpoint result = *endpoint;
    result.family = AF_INET;
    memset(result.address, 0, sizeof result.address);
    memcpy(result.address, endpoint->address + 12, 4);
    return result;
}

int ck_tcp_peer_is_loopback(int fd) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof storage;
    ck_endpoint peer;
    if (getpeername(fd, (struct sockaddr *)&storage, &length) < 0 || ck_read_endpoint(&storage, &peer) < 0) {
        return -1;
    }
    if (ck_is_v4_mapped(&peer)) {
        peer = ck_unmapped(&peer);
    }
    if (peer.family == AF_INET) {
        return peer.address[0] == 127;
    }
    static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return memcmp(peer.address, loopback, 16) == 0;
}

#if defined(__linux__)

/// Asks NETLINK_SOCK_DIAG for the TCP socket whose local end is `peer` and whose remote end is `local`.
static int ck_netlink_owner(const ck_endpoint *peer, const ck_endpoint *local, uint32_t *uid) {
    int sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (sock < 0) {
        return CK_PEER_OWNER_UNKNOWN;
    }
    struct timeval timeout = {.tv_sec = 1, .tv_usec = 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.header.nlmsg_seq = 1;
    message.request.sdiag_family = (uint8_t)peer->family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    size_t size = peer->family == AF_INET ? 4 : 16;
    message.request.id.idiag_sport = peer->port;
    message.request.id.idiag_dport = local->port;
    memcpy(message.request.id.idiag_src, peer->address, size);
    memcpy(message.request.id.idiag_dst, local->address, size);
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
        sent = sendto(sock, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        int saved = errno;
        close(sock);
        errno = saved;
        return CK_PEER_OWNER_UNKNOWN;
    }

    // One answer: the socket's inet_diag_msg, or an error (ENOENT: no such socket).
    long buffer[2048];
    ssize_t received;
    do {
        received = recv(sock, buffer, sizeof buffer, 0);
    } while (received < 0 && errno == EINTR);
    int saved = errno;
    close(sock);
    if (received < 0) {
        errno = saved;
        return CK_PEER_OWNER_UNKNOWN;
    }
    size_t left = (size_t)received;
    for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, left);
         header = NLMSG_NEXT(header, left)) {
        if (header->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *error = NLMSG_DATA(header);
            if (error->error == -ENOENT) {
                return CK_PEER_OWNER_NOT_FOUND;
            }
            errno = error->error < 0 ? -error->error : EPROTO;
            return CK_PEER_OWNER_UNKNOWN;
        }
        if (header->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
            header->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
            const struct inet_diag_msg *found = NLMSG_DATA(header);
            // A socket its process has closed (orphaned, or a time-wait mini-socket) has no inode, and the
            // kernel reports uid 0 for it: that is not an owner.
            if (found->idiag_inode == 0) {
                return CK_PEER_OWNER_ORPHANED;
            }
            *uid = found->idiag_uid;
            return CK_PEER_OWNER_FOUND;
        }
    }
    errno = EPROTO;
    return CK_PEER_OWNER_UNKNOWN;
}

/// The address as /proc/net/tcp{,6} prints it: each 32-bit word loaded in host order, as %08X.
static void ck_proc_address(const ck_endpoint *endpoint, char *text, size_t capacity) {
    size_t words = endpoint->family == AF_INET ? 1 : 4;
    text[0] = '\0';
    for (size_t index = 0; index < words; index++) {
        uint32_t word;
        memcpy(&word, endpoint->address + 4 * index, 4);
        size_t used = strlen(text);
        snprintf(text + used, capacity - used, "%08X", word);
    }
}

/// Searches /proc/net/tcp (IPv4) or /proc/net/tcp6 (IPv6) for the socket whose local end is `peer` and whose
/// remote end is `local`.
static int ck_proc_owner(const ck_endpoint *peer, const ck_endpoint *local, uint32_t *uid) {
    FILE *file = fopen(peer->family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6", "re");
    if (file == NULL) {
        return CK_PEER_OWNER_UNKNOWN;
    }
    char peer_address[40];
    char local_address[40];
    ck_proc_address(peer, peer_address, sizeof peer_address);
    ck_proc_address(local, local_address, sizeof local_address);
    unsigned int peer_port = ntohs(peer->port);
    unsigned int local_port = ntohs(local->port);
    char line[512];
    int result = CK_PEER_OWNER_NOT_FOUND;
    // The header line does not parse and is skipped like any other line that does not match.
    while (fgets(line, sizeof line, file) != NULL) {
        char line_local[40];
        char line_remote[40];
        unsigned int line_local_port;
        unsigned int line_remote_port;
        unsigned int line_uid;
        unsigned long line_inode;
        int fields = sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %*x %*s %*s %*s %u %*d %lu", line_local,
                            &line_local_port, line_remote, &line_remote_port, &line_uid, &line_inode);
        if (fields != 6 || line_local_port != peer_port || line_remote_port != local_port ||
            strcasecmp(line_local, peer_address) != 0 || strcasecmp(line_remote, local_address) != 0) {
            continue;
        }
        if (line_inode == 0) {
            result = CK_PEER_OWNER_ORPHANED;
        } else {
            *uid = line_uid;
            result = CK_PEER_OWNER_FOUND;
        }
        break;
    }
    fclose(file);
    return result;
}

/// Asks the allowed sources in order; netlink passes the question on to /proc when it cannot answer, or, with
/// CK_PEER_CONFIRM_ABSENCE, when it finds no socket (NETLINK_SOCK_DIAG also answers ENOENT when the kernel lacks
/// TCP diagnostics).
static int ck_owner_of(const ck_endpoint *peer, const ck_endpoint *local, int sources, uint32_t *uid) {
    int result = CK_PEER_OWNER_UNKNOWN;
    errno = EOPNOTSUPP;  // what is left when no source may be asked
    if (sources & CK_PEER_SOURCE_NETLINK) {
        result = ck_netlink_owner(peer, local, uid);
        if (result == CK_PEER_OWNER_FOUND || result == CK_PEER_OWNER_ORPHANED ||
            (result == CK_PEER_OWNER_NOT_FOUND && !(sources & CK_PEER_CONFIRM_ABSENCE))) {
            return result;
        }
    }
    if (sources & CK_PEER_SOURCE_PROC) {
        int proc = ck_proc_owner(peer, local, uid);
        if (proc != CK_PEER_OWNER_UNKNOWN || result == CK_PEER_OWNER_UNKNOWN) {
            result = proc;
        }
    }
    return result;
}

int ck_tcp_peer_owner(int fd, int sources, uint32_t *uid) {
    ck_endpoint peer;
    ck_endpoint local;
    if (ck_endpoints(fd, &peer, &local) < 0) {
        return CK_PEER_OWNER_UNKNOWN;
    }
    if (ck_is_v4_mapped(&peer) && ck_is_v4_mapped(&local)) {
        // Usually an IPv4 socket talking to a dual-stack listener; an IPv6 socket using mapped addresses is the
        // rarer case, asked second.
        ck_endpoint peer4 = ck_unmapped(&peer);
        ck_endpoint local4 = ck_unmapped(&local);
        int result = ck_owner_of(&peer4, &local4, sources, uid);
        if (result != CK_PEER_OWNER_NOT_FOUND) {
            return result;
        }
    }
    return ck_owner_of(&peer, &local, sources, uid);
}

#else

int ck_tcp_peer_owner(int fd, int sources, uint32_t *uid) {
    (void)fd;
    (void)sources;
    (void)uid;
    errno = ENOSYS;
    return CK_PEER_OWNER_UNKNOWN;
}

#endif
