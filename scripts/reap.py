#!/usr/bin/env python3
"""reap.py REPORT CMD [ARG...]: run CMD, then end what it left running.

This process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so
that every process CMD starts stays in its tree even when its parent
exits: a daemon that detaches, an sshd session whose client vanished, a
browser's helpers. Orphans that end while CMD runs are reaped as they go.
Once CMD has exited, every process still in the tree is a leftover: each
is named in REPORT (one line each: pid and command line), sent SIGTERM,
then SIGKILL after 2 s, and reaped. REPORT is empty if there was none.
Exits with CMD's exit status. Only processes in this tree are ever
signalled.
"""
import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children_of(parent):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # The command may hold spaces and parentheses: ppid follows the
        # last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            out.append(int(name))
    return out


def tree(root):
    found, todo = [], [root]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            text = f.read().replace(b"\0", b" ").strip()
        return text.decode(errors="replace")[:200] or "?"
    except OSError:
        return "?"


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    report, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("reap.py: cannot become a child subreaper")
    child = os.fork()
    if child == 0:
        os.execvp(cmd[0], cmd)
    status = 0
    while True:
        pid, st = os.waitpid(-1, 0)
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            break
    left = tree(os.getpid())
    with open(report, "w") as f:
        for pid in left:
            f.write("pid %d: %s\n" % (pid, cmdline(pid)))
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.time() + 2
    while tree(os.getpid()) and time.time() < deadline:
        reap_all()
        time.sleep(0.05)
    for pid in tree(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
    reap_all()
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
