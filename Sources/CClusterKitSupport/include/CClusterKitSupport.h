// CClusterKitSupport: the few POSIX/Linux calls ClusterKit's process supervisor needs that Swift cannot make
// directly (fork with child-side setup, prctl, pidfd, the wait-status macros).
#ifndef CCLUSTERKITSUPPORT_H
#define CCLUSTERKITSUPPORT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How to start one supervised node process (see `ck_spawn`).
typedef struct ck_spawn_request {
    /// The program to execute: a path (absolute, or relative to the node's working directory).
    const char *executable;
    /// The argument vector, NULL-terminated; `argv[0]` is the program name.
    char *const *argv;
    /// The complete environment, NULL-terminated `KEY=VALUE` strings.
    char *const *envp;
    /// The node's name, used in the messages the child writes to its standard error.
    const char *node_name;
    /// The working directory, or NULL to keep the supervisor's.
    const char *directory;
    /// A file for standard output (opened after changing directory), or NULL.
    const char *stdout_file;
    /// A file for standard error (opened after changing directory), or NULL.
    const char *stderr_file;
    /// The write end of the standard output pipe (always given; replaced by `stdout_file` when set).
    int stdout_fd;
    /// The write end of the standard error pipe (always given; replaced by `stderr_file` when set).
    int stderr_fd;
    /// Non-zero when `cpu_affinity` is set.
    int has_cpu_affinity;
    /// The CPU to pin the process to.
    int cpu_affinity;
    /// The signal the child gets when the forking thread dies (Linux `PR_SET_PDEATHSIG`), 0 for none.
    int parent_death_signal;
} ck_spawn_request;

/// Forks and executes a supervised node.
///
/// Every signal is blocked in the calling thread around fork(), so no signal can run one of the caller's handlers in
/// the child; the caller's mask is restored right after (a signal for the caller that arrived meanwhile is delivered
/// then). The child, using only async-signal-safe calls: first restores default signal dispositions, then an empty
/// signal mask (a signal sent to it before that is delivered then, with its default action); reads standard input
/// from /dev/null and writes standard output and error to the given pipes; closes every other descriptor; becomes
/// the leader of a new process group; sets the parent-death signal; waits at the gate (see below) and exits at once
/// if the parent is already gone; changes to `directory`; opens `stderr_file` then `stdout_file`
/// (O_WRONLY|O_CREAT|O_TRUNC|O_APPEND|O_NOFOLLOW, 0600: a symbolic link there fails with ELOOP); sets the CPU
/// affinity (a failure only warns); marks every descriptor above 2 close-on-exec; executes the program.
/// A failing step writes Zeek's message (`node '<name>' failed to chdir to <dir>: <reason>`, ...) to standard error
/// and exits with status 1 (127 when the program cannot be executed).
///
/// When `gate_fd` is not NULL, the child waits (right after joining its process group and arming the parent-death
/// signal) until the parent closes `*gate_fd`; this lets the parent record the new process group before the child
/// runs any of its own code. With NULL it does not wait.
///
/// Returns the child's process id (also its process group id), or -1 with `*error` set when fork or the gate pipe
/// fails.
pid_t ck_spawn(const ck_spawn_request *request, int *gate_fd, int *error);

/// Opens a pidfd for a process (Linux 5.3+): readable once the process has exited. Returns -1 with errno set when
/// unsupported.
int ck_pidfd_open(pid_t pid);

/// Creates a pipe whose read end is non-blocking; both ends are close-on-exec. Returns 0, or -1 with errno set.
int ck_output_pipe(int fds[2]);

/// Creates a pipe with both ends non-blocking and close-on-exec. Returns 0, or -1 with errno set.
int ck_nonblocking_pipe(int fds[2]);

/// Whether a child has exited, without reaping it (waitid with WNOWAIT): 1 when it has (it stays a zombie, so its
/// pid and process group id are not reused yet), 0 while it runs, -1 when it is not a child (any more).
int ck_has_exited(pid_t pid);

/// Reaps a child without blocking: returns its pid with `*status` set, 0 while it runs, or -1 with errno set.
pid_t ck_reap(pid_t pid, int *status);

/// Starts the group watchdog: a process (forked, not executed; async-signal-safe code only) that keeps the process
/// groups it is told about and sends SIGKILL to all of them when the supervisor goes away.
///
/// The supervisor keeps `*control_fd` (close-on-exec) and tells the watchdog about groups with
/// `ck_watchdog_register`. When every copy of `*control_fd` is closed — the supervisor process died, or it closed
/// the descriptor to stop the watchdog — the watchdog kills the registered groups and exits with status 0. It runs in
/// its own process group, ignores SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE, keeps no other descriptor, and is
/// named `ck-watchdog`. Returns its pid, or -1 with `*error` set.
pid_t ck_watchdog_start(int *control_fd, int *error);

/// Tells the watchdog that process group `group` exists (`group` > 0) or is gone (`-group`). Returns 0, or -1 with
/// errno set (EPIPE when the watchdog has gone; no SIGPIPE is raised).
int ck_watchdog_register(int control_fd, int value);

/// Stops the watchdog: closes `control_fd` (the watchdog then kills the groups still registered and exits) and
/// reaps it, waiting at most about one second before sending it SIGKILL.
void ck_watchdog_stop(int control_fd, pid_t pid);

/// Installs handlers for SIGINT and SIGTERM that write the signal's number (one byte) to a pipe, and returns the
/// pipe's read end, or -1 with errno set. Both ends are close-on-exec from their creation. The handlers only call `write`, which is
/// async-signal-safe. Calling it again returns the same descriptor. Child processes get default dispositions
/// back on exec.
int ck_termination_signal_fd(void);

/// Starts `path` in a new session (setsid), detached from the caller's terminal, with standard input from
/// /dev/null, standard output and error on `output_fd` (which the caller opened, typically with
/// O_WRONLY|O_APPEND|O_NOFOLLOW|O_CLOEXEC, and still owns), no other descriptor of the caller (closed in the child
/// whether close-on-exec or not), default signal dispositions and an empty signal mask (signals are blocked around
/// fork() as in `ck_spawn`). When `ready_fd` is not -1 the program also gets it as descriptor 3 (for a readiness
/// report; the caller still owns `ready_fd`). Returns 0 and sets `*pid` once the program is executing, or an errno
/// value (a child that could not execute the program is reaped).
int ck_spawn_detached(
    const char *path, char *const argv[], char *const envp[], int output_fd, int ready_fd, pid_t *pid
);

/// Whether a wait status says the process exited (WIFEXITED).
int ck_status_exited(int status);
/// The exit status of an exited process (WEXITSTATUS).
int ck_status_exit_code(int status);
/// Whether a wait status says the process was killed by a signal (WIFSIGNALED).
int ck_status_signaled(int status);
/// The signal that killed the process (WTERMSIG).
int ck_status_signal(int status);

#ifdef __cplusplus
}
#endif

#endif
#include "CClusterKitPeer.h"
#include "CClusterKitSanitizer.h"
#include "CClusterKitTLS.h"
