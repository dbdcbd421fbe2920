// See include/CClusterKitSupport.h. Everything between fork() and execve() below is async-signal-safe: the
// parent is a multi-threaded Swift process, so the child must not allocate, lock or touch stdio.
#define _GNU_SOURCE
#include "CClusterKitSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

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
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
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

static void ck_reset_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) {
            continue;
        }
        sigaction(signal_number, &action, NULL);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
}

static void ck_child(const ck_spawn_request *request, pid_t parent) {
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
    // The parent may have died before the death signal was armed.
    if (getppid() != parent) {
        _exit(1);
    }

    ck_reset_signals();

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

pid_t ck_spawn(const ck_spawn_request *request, int *error) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        *error = errno;
        return -1;
    }
    if (pid == 0) {
        ck_child(request, parent);
        _exit(127);
    }
    // Also set the group from the parent, so that it exists before anyone signals it (fails harmlessly with
    // EACCES once the child has executed).
    setpgid(pid, pid);
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

static int ck_pipe_with_flags(int fds[2], int nonblocking_write) {
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
    if (!nonblocking_write) {
        int flags = fcntl(fds[1], F_GETFL);
        if (flags < 0 || fcntl(fds[1], F_SETFL, flags & ~O_NONBLOCK) < 0) {
            int saved = errno;
            close(fds[0]);
            close(fds[1]);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

int ck_output_pipe(int fds[2]) { return ck_pipe_with_flags(fds, 0); }

int ck_nonblocking_pipe(int fds[2]) { return ck_pipe_with_flags(fds, 1); }

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
