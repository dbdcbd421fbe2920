// See include/CClusterKitSupport.h. Everything between fork() and execve() below is async-signal-safe: the
// parent is a multi-threaded Swift process, so the child must not allocate, lock or touch stdio.
#define _GNU_SOURCE
#include "CClusterKitSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

static int ck_pipe_with_flags(int fds[2], int nonblocking_read, int nonblocking_write);

static void ck_write_all(int fd, const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t written = write(fd, text, left);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        text += written;
        left -= (size_t)written;
    }
}

static const char *ck_error_text(int code) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *text = strerrordesc_np(code);
    if (text != NULL) {
        return text;
    }
#else
    (void)code;
#endif
    return "unknown error";
}

// Writes "node '<name>' <what>[ <argument>]: <reason>\n" to standard error, as Zeek's supervised node does.
static void ck_report(const char *name, const char *what, const char *argument, int code) {
    ck_write_all(STDERR_FILENO, "node '");
    ck_write_all(STDERR_FILENO, name);
    ck_write_all(STDERR_FILENO, "' ");
    ck_write_all(STDERR_FILENO, what);
    if (argument != NULL) {
        ck_write_all(STDERR_FILENO, " ");
        ck_write_all(STDERR_FILENO, argument);
    }
    ck_write_all(STDERR_FILENO, ": ");
    ck_write_all(STDERR_FILENO, ck_error_text(code));
    ck_write_all(STDERR_FILENO, "\n");
}

static int ck_dup_onto(int fd, int target) {
    if (fd == target) {
        // dup2 would keep close-on-exec set; clear it instead.
        int flags = fcntl(fd, F_GETFD);
        return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    while (dup2(fd, target) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static int ck_redirect_to_file(const char *path, int target) {
    // O_NOFOLLOW: a symbolic link planted where the file goes is not written through (ELOOP).
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    int result = ck_dup_onto(fd, target);
    int saved = errno;
    if (fd != target) {
        close(fd);
    }
    errno = saved;
    return result;
}

static void ck_mark_descriptors_close_on_exec(void) {
#if defined(__linux__) && defined(SYS_close_range)
    // CLOSE_RANGE_CLOEXEC (Linux 5.11+) is (1U << 2).
    if (syscall(SYS_close_range, 3U, ~0U, 1U << 2) == 0) {
        return;
    }
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 65536) {
        limit = 65536;
    }
    for (int fd = 3; fd < (int)limit; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
}

// Closes every descriptor from `first` on, except `keep` (-1: none).
static void ck_close_from_except(int first, int keep) {
#if defined(__linux__) && defined(SYS_close_range)
    int done = 1;
    if (keep >= first) {
        if (keep > first && syscall(SYS_close_range, (unsigned int)first, (unsigned int)(keep - 1), 0U) != 0) {
            done = 0;
        }
        if (done && syscall(SYS_close_range, (unsigned int)(keep + 1), ~0U, 0U) != 0) {
            done = 0;
        }
    } else if (syscall(SYS_close_range, (unsigned int)first, ~0U, 0U) != 0) {
        done = 0;
    }
    if (done) {
        return;
    }
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 65536) {
        limit = 65536;
    }
    for (int fd = first; fd < (int)limit; fd++) {
        if (fd != keep) {
            close(fd);
        }
    }
}

// Signals and fork: the parent blocks every signal in the forking thread around fork() (ck_block_signals), so
// that the child starts with every signal blocked and none of them can run one of the parent's handlers in the
// child (a SIGTERM there would be "handled" by writing to the parent's signal pipe, and so lost). The child first
// restores default dispositions (ck_default_dispositions), then unblocks (ck_unblock_signals): a signal sent to it
// meanwhile stays pending and is then delivered with its default action. The parent restores its own mask right
// after fork(); a signal for the parent that arrived in between is delivered then (other threads never blocked).

static void ck_block_signals(sigset_t *previous) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, previous);
}

static void ck_restore_signal_mask(const sigset_t *previous) { pthread_sigmask(SIG_SETMASK, previous, NULL); }

static void ck_default_dispositions(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
#if defined(__linux__) && defined(SYS_rt_sigaction)
    // The kernel's struct for SIG_DFL with no flags and an empty mask is all zeros, whatever the architecture's
    // layout; large enough for any of them.
    static const unsigned long kernel_default[16] = {0};
#endif
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) {
            continue;
        }
        if (sigaction(signal_number, &action, NULL) != 0) {
#if defined(__linux__) && defined(SYS_rt_sigaction)
            // glibc refuses the signals it keeps for itself (32 and 33), which an ignoring parent passes on
            // through exec; the kernel does not.
            syscall(SYS_rt_sigaction, signal_number, kernel_default, NULL, (size_t)((NSIG - 1) / 8));
#endif
        }
    }
}

static void ck_unblock_signals(void) {
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
}

// In a freshly forked child: default dispositions, then an empty mask.
static void ck_reset_signals(void) {
    ck_default_dispositions();
    ck_unblock_signals();
}

static void ck_child(const ck_spawn_request *request, pid_t parent, int gate) {
    const char *name = request->node_name;

    // Standard output and error first, so that every later message reaches the supervisor.
    if (ck_dup_onto(request->stdout_fd, STDOUT_FILENO) < 0 || ck_dup_onto(request->stderr_fd, STDERR_FILENO) < 0) {
        _exit(1);
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
        ck_dup_onto(null_fd, STDIN_FILENO);
        if (null_fd != STDIN_FILENO) {
            close(null_fd);
        }
    }
    // Keep nothing else (the gate excepted): this process may hold the write end of another node's gate, forked
    // at the same moment by another supervisor in this process, and must not keep that node waiting.
    ck_close_from_except(3, gate);

    // Own process group: the supervisor signals the whole group, and the terminal's SIGINT does not reach nodes.
    if (setpgid(0, 0) < 0) {
        ck_report(name, "failed to set process group", NULL, errno);
        _exit(1);
    }

#if defined(__linux__)
    if (request->parent_death_signal != 0) {
        if (prctl(PR_SET_PDEATHSIG, (unsigned long)request->parent_death_signal, 0UL, 0UL, 0UL) < 0) {
            ck_report(name, "failed to set parent death signal", NULL, errno);
        }
    }
#endif
    // Wait until the parent has recorded this process group (it closes its end of the gate).
    if (gate >= 0) {
        char byte;
        while (read(gate, &byte, 1) < 0 && errno == EINTR) {
        }
        close(gate);
    }
    // The parent may have died before the death signal was armed.
    if (getppid() != parent) {
        _exit(1);
    }

    if (request->directory != NULL && chdir(request->directory) < 0) {
        ck_report(name, "failed to chdir to", request->directory, errno);
        _exit(1);
    }
    // Zeek opens the standard error file before the standard output file.
    if (request->stderr_file != NULL && ck_redirect_to_file(request->stderr_file, STDERR_FILENO) < 0) {
        ck_report(name, "failed to create stderr file", request->stderr_file, errno);
        _exit(1);
    }
    if (request->stdout_file != NULL && ck_redirect_to_file(request->stdout_file, STDOUT_FILENO) < 0) {
        ck_report(name, "failed to create stdout file", request->stdout_file, errno);
        _exit(1);
    }
    if (request->has_cpu_affinity) {
#if defined(__linux__)
        int cpu = request->cpu_affinity;
        int failure = EINVAL;
        if (cpu >= 0 && cpu < CPU_SETSIZE) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            failure = sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
        }
#else
        int failure = ENOSYS;
#endif
        if (failure != 0) {
            ck_report(name, "failed to set CPU affinity", NULL, failure);
        }
    }

    ck_mark_descriptors_close_on_exec();
    execve(request->executable, request->argv, request->envp);
    ck_report(name, "failed to execute", request->executable, errno);
    _exit(127);
}

pid_t ck_spawn(const ck_spawn_request *request, int *gate_fd, int *error) {
    int gate[2] = {-1, -1};
    // Both ends blocking: the child must really wait in read().
    if (gate_fd != NULL && ck_pipe_with_flags(gate, 0, 0) < 0) {
        *error = errno;
        return -1;
    }
    pid_t parent = getpid();
    sigset_t previous;
    ck_block_signals(&previous);
    pid_t pid = fork();
    if (pid == 0) {
        // Before anything else: none of the parent's handlers may run here (see ck_block_signals).
        ck_reset_signals();
        if (gate_fd != NULL) {
            close(gate[1]);
        }
        ck_child(request, parent, gate[0]);
        _exit(127);
    }
    int fork_error = errno;
    ck_restore_signal_mask(&previous);
    if (pid < 0) {
        *error = fork_error;
        if (gate_fd != NULL) {
            close(gate[0]);
            close(gate[1]);
        }
        return -1;
    }
    // Also set the group from the parent, so that it exists before anyone signals it (fails harmlessly with
    // EACCES once the child has executed).
    setpgid(pid, pid);
    if (gate_fd != NULL) {
        close(gate[0]);
        *gate_fd = gate[1];
    }
    *error = 0;
    return pid;
}

int ck_pidfd_open(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static int ck_clear_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

static int ck_pipe_with_flags(int fds[2], int nonblocking_read, int nonblocking_write) {
#if defined(__linux__)
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -1;
    }
#else
    if (pipe(fds) < 0) {
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
#endif
    if ((!nonblocking_read && ck_clear_nonblocking(fds[0]) < 0) ||
        (!nonblocking_write && ck_clear_nonblocking(fds[1]) < 0)) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    return 0;
}

int ck_output_pipe(int fds[2]) { return ck_pipe_with_flags(fds, 1, 0); }

int ck_nonblocking_pipe(int fds[2]) { return ck_pipe_with_flags(fds, 1, 1); }

// The most groups the watchdog keeps; one per running node is enough.
#define CK_WATCHDOG_CAPACITY 65536

static void ck_watchdog_main(int fd) {
    static int32_t groups[CK_WATCHDOG_CAPACITY];
    static unsigned char buffer[4096];
    size_t count = 0;
    size_t pending = 0;

    // Signals are still blocked (see ck_block_signals): dispositions first, then the mask.
    ck_default_dispositions();
    struct sigaction ignore;
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
    for (size_t index = 0; index < sizeof(ignored) / sizeof(ignored[0]); index++) {
        sigaction(ignored[index], &ignore, NULL);
    }
    ck_unblock_signals();
    setpgid(0, 0);
#if defined(__linux__)
    prctl(PR_SET_NAME, (unsigned long)"ck-watchdog", 0UL, 0UL, 0UL);
#endif
    ck_close_from_except(0, fd);

    for (;;) {
        ssize_t received = read(fd, buffer + pending, sizeof(buffer) - pending);
        if (received < 0 && errno == EINTR) {
            continue;
        }
        if (received <= 0) {
            break;
        }
        pending += (size_t)received;
        size_t offset = 0;
        while (pending - offset >= sizeof(int32_t)) {
            int32_t value;
            memcpy(&value, buffer + offset, sizeof(value));
            offset += sizeof(value);
            if (value > 0 && count < CK_WATCHDOG_CAPACITY) {
                groups[count++] = value;
            } else if (value < 0) {
                for (size_t index = 0; index < count; index++) {
                    if (groups[index] == -value) {
                        groups[index] = groups[--count];
                        break;
                    }
                }
            }
        }
        memmove(buffer, buffer + offset, pending - offset);
        pending -= offset;
    }
    for (size_t index = 0; index < count; index++) {
        kill(-(pid_t)groups[index], SIGKILL);
    }
    _exit(0);
}

pid_t ck_watchdog_start(int *control_fd, int *error) {
    int fds[2];
#if defined(__linux__)
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        *error = errno;
        return -1;
    }
#else
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        *error = errno;
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
    sigset_t previous;
    ck_block_signals(&previous);
    pid_t pid = fork();
    if (pid == 0) {
        ck_watchdog_main(fds[1]);
        _exit(0);
    }
    int fork_error = errno;
    ck_restore_signal_mask(&previous);
    if (pid < 0) {
        *error = fork_error;
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    // Out of the supervisor's process group at once, before the child runs: a signal to that group (Ctrl-C, or a
    // supervisor of the supervisor killing what is left of it) must not take the watchdog along.
    setpgid(pid, pid);
    close(fds[1]);
    *control_fd = fds[0];
    *error = 0;
    return pid;
}

int ck_watchdog_register(int control_fd, int value) {
    int32_t record = (int32_t)value;
    const unsigned char *bytes = (const unsigned char *)&record;
    size_t left = sizeof(record);
    while (left > 0) {
#if defined(MSG_NOSIGNAL)
        ssize_t sent = send(control_fd, bytes, left, MSG_NOSIGNAL);
#else
        ssize_t sent = write(control_fd, bytes, left);
#endif
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        bytes += sent;
        left -= (size_t)sent;
    }
    return 0;
}

void ck_watchdog_stop(int control_fd, pid_t pid) {
    close(control_fd);
    int status;
    for (int attempt = 0; attempt < 200; attempt++) {
        pid_t result = waitpid(pid, &status, WNOHANG);
        if (result == pid || (result < 0 && errno != EINTR)) {
            return;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

int ck_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int result;
    do {
        result = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
    } while (result < 0 && errno == EINTR);
    if (result < 0) {
        return -1;
    }
    return info.si_pid == pid ? 1 : 0;
}

pid_t ck_reap(pid_t pid, int *status) {
    pid_t result;
    do {
        result = waitpid(pid, status, WNOHANG);
    } while (result < 0 && errno == EINTR);
    return result;
}

int ck_status_exited(int status) { return WIFEXITED(status); }

int ck_status_exit_code(int status) { return WEXITSTATUS(status); }

int ck_status_signaled(int status) { return WIFSIGNALED(status); }

int ck_status_signal(int status) { return WTERMSIG(status); }

// MARK: - Termination signals

static int ck_termination_pipe[2] = {-1, -1};

static void ck_termination_handler(int signal_number) {
    int saved = errno;
    unsigned char byte = (unsigned char)signal_number;
    if (ck_termination_pipe[1] >= 0) {
        ssize_t ignored = write(ck_termination_pipe[1], &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

int ck_termination_signal_fd(void) {
    if (ck_termination_pipe[0] >= 0) {
        return ck_termination_pipe[0];
    }
    int fds[2];
    // Close-on-exec from the start (no window in which a concurrent fork and exec inherits the pipe); only the
    // write end is non-blocking, so that the handler never blocks.
    if (ck_pipe_with_flags(fds, 0, 1) < 0) {
        return -1;
    }
    ck_termination_pipe[0] = fds[0];
    ck_termination_pipe[1] = fds[1];
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = ck_termination_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) {
        return -1;
    }
    return fds[0];
}

// MARK: - Detached programs

// The lowest descriptor the parent's own pipe ends may take in ck_spawn_detached: standard input, output and error,
// and 3 for `ready_fd`, are set up in the child without overwriting them.
#define CK_FIRST_PRIVATE_FD 4

// Moves a descriptor to `minimum` or above (close-on-exec), closing the original. Returns the descriptor to use, or
// -1 with errno set.
static int ck_at_least(int fd, int minimum) {
    if (fd < 0 || fd >= minimum) {
        return fd;
    }
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, minimum);
    int saved = errno;
    close(fd);
    errno = saved;
    return copy;
}

int ck_spawn_detached(
    const char *path, char *const argv[], char *const envp[], int output_fd, int ready_fd, pid_t *pid
) {
    // The child reports a failure before execve (or execve's) as an errno value on this pipe; end of file means
    // that it executed the program (the write end is close-on-exec).
    int report[2];
    if (ck_pipe_with_flags(report, 0, 0) < 0) {
        return errno;
    }
    report[0] = ck_at_least(report[0], CK_FIRST_PRIVATE_FD);
    report[1] = ck_at_least(report[1], CK_FIRST_PRIVATE_FD);
    int output = output_fd >= CK_FIRST_PRIVATE_FD ? output_fd : fcntl(output_fd, F_DUPFD_CLOEXEC, CK_FIRST_PRIVATE_FD);
    int ready = ready_fd < 0 || ready_fd >= CK_FIRST_PRIVATE_FD ? ready_fd : fcntl(ready_fd, F_DUPFD_CLOEXEC, CK_FIRST_PRIVATE_FD);
    if (report[0] < 0 || report[1] < 0 || output < 0 || (ready_fd >= 0 && ready < 0)) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        if (output >= 0 && output != output_fd) {
            close(output);
        }
        if (ready >= 0 && ready != ready_fd) {
            close(ready);
        }
        errno = saved;
        return saved;
    }
    sigset_t previous;
    ck_block_signals(&previous);
    pid_t child = fork();
    if (child == 0) {
        // Default dispositions and an empty mask, whatever the caller had (see ck_block_signals).
        ck_reset_signals();
        int failure = 0;
        // A session of its own: no controlling terminal, and the caller's Ctrl-C does not reach it.
        if (setsid() < 0) {
            failure = errno;
        }
        int null_fd = failure == 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
        if (failure == 0 && (null_fd < 0 || ck_dup_onto(null_fd, STDIN_FILENO) < 0)) {
            failure = errno;
        }
        if (null_fd > STDIN_FILENO) {
            close(null_fd);
        }
        if (failure == 0 && (ck_dup_onto(output, STDOUT_FILENO) < 0 || ck_dup_onto(output, STDERR_FILENO) < 0)) {
            failure = errno;
        }
        // The readiness descriptor becomes 3; every private descriptor is above it (CK_FIRST_PRIVATE_FD).
        if (failure == 0 && ready >= 0 && ck_dup_onto(ready, STDERR_FILENO + 1) < 0) {
            failure = errno;
        }
        if (failure == 0) {
            // Nothing else of the caller's reaches the program, close-on-exec or not.
            ck_close_from_except(ready >= 0 ? STDERR_FILENO + 2 : STDERR_FILENO + 1, report[1]);
            execve(path, argv, envp);
            failure = errno;
        }
        ssize_t ignored = write(report[1], &failure, sizeof(failure));
        (void)ignored;
        _exit(127);
    }
    int fork_error = errno;
    ck_restore_signal_mask(&previous);
    close(report[1]);
    if (output != output_fd) {
        close(output);
    }
    if (ready >= 0 && ready != ready_fd) {
        close(ready);
    }
    if (child < 0) {
        close(report[0]);
        return fork_error;
    }
    int failure = 0;
    size_t received = 0;
    while (received < sizeof(failure)) {
        ssize_t count = read(report[0], (char *)&failure + received, sizeof(failure) - received);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            break;
        }
        received += (size_t)count;
    }
    close(report[0]);
    if (received == sizeof(failure)) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        return failure != 0 ? failure : EIO;
    }
    *pid = child;
    return 0;
}
