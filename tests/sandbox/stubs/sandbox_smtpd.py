"""Sandbox stand-in of qmail behind tcpserver: an aiosmtpd handler.

The SMTP listener (service tcpserver, as tcpserver runs qmail-smtpd on
port 25) accepts a recipient only when its domain is in
/var/qmail/control/rcpthosts (qmail-smtpd's 553 otherwise; no file: every
domain, as qmail) and queues each message. Delivery is qmail's (service
qmail): while it runs, a queued message is delivered at once to the
Maildir of each local recipient (a domain in /var/qmail/control/locals,
the user named by the local part); "service qmail start" delivers what
was queued while it was stopped. Mail for other domains stays in the
queue: the sandbox sends no mail off the host.

  python3 sandbox_smtpd.py flush    deliver the queue (service qmail start)
  python3 sandbox_smtpd.py inject FROM RCPT...
                                    queue the message on stdin, as
                                    qmail-inject (the mail stub)
"""

import email.utils
import fcntl
import json
import os
import pwd
import socket
import sys
import time

CONTROL = "/var/qmail/control"
QUEUE = "/var/spool/hostswap-sandbox/mqueue"
QMAIL_PID = "/run/hostswap-sandbox/svc-qmail.pid"
LOG = "/var/log/hostswap-sandbox/qmail.log"
_seq = 0


def log(msg):
    """One line of qmail's log (what was delivered, bounced or kept)."""
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    with open(LOG, "a", encoding="utf-8") as f:
        f.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))


def control(name):
    """The lines of a qmail control file (None when it does not exist)."""
    try:
        with open(os.path.join(CONTROL, name), encoding="utf-8") as f:
            return {line.strip().lower() for line in f
                    if line.strip() and not line.startswith("#")}
    except OSError:
        return None


def listed(domain, hosts):
    """Whether a domain is in a qmail host list (".dom" matches subdomains)."""
    d = domain.lower()
    return d in hosts or any(h.startswith(".") and d.endswith(h) for h in hosts)


def qmail_running():
    """Whether the qmail service (delivery) runs in this host."""
    try:
        with open(QMAIL_PID, encoding="ascii") as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def unique():
    """A name unique in this host, as Maildir wants it."""
    global _seq
    _seq += 1
    return "%d.P%dQ%d.%s" % (time.time(), os.getpid(), _seq, socket.gethostname())


def enqueue(sender, rcpts, data):
    """Write one message and its envelope into the queue."""
    os.makedirs(QUEUE, mode=0o700, exist_ok=True)
    name = unique()
    with open(os.path.join(QUEUE, name + ".msg"), "wb") as f:
        f.write(data)
    tmp = os.path.join(QUEUE, name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"from": sender, "to": rcpts}, f)
    os.rename(tmp, os.path.join(QUEUE, name + ".env"))


def deliver_local(user, sender, rcpt, data):
    """Deliver a message to USER's ~/Maildir/new, owned by the user."""
    pw = pwd.getpwnam(user)
    md = os.path.join(pw.pw_dir, "Maildir")
    for sub in ("", "tmp", "new", "cur"):
        p = os.path.join(md, sub)
        if not os.path.isdir(p):
            os.makedirs(p, mode=0o700, exist_ok=True)
            os.chown(p, pw.pw_uid, pw.pw_gid)
    name = unique()
    tmp = os.path.join(md, "tmp", name)
    head = "Return-Path: <%s>\nDelivered-To: %s\n" % (sender, rcpt)
    with open(tmp, "wb") as f:
        f.write(head.encode() + data.replace(b"\r\n", b"\n"))
    os.chmod(tmp, 0o600)
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    os.rename(tmp, os.path.join(md, "new", name))


def flush():
    """Deliver every queued message to its local recipients."""
    os.makedirs(QUEUE, mode=0o700, exist_ok=True)
    locals_ = control("locals") or set()
    defaulthost = (control("defaulthost") or {"localhost"}).pop()
    with open(os.path.join(QUEUE, ".lock"), "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for env in sorted(n for n in os.listdir(QUEUE) if n.endswith(".env")):
            base = os.path.join(QUEUE, env[:-4])
            with open(base + ".env", encoding="utf-8") as f:
                e = json.load(f)
            with open(base + ".msg", "rb") as f:
                data = f.read()
            remote = []
            for rcpt in e["to"]:
                local, _, domain = rcpt.rpartition("@") if "@" in rcpt else (rcpt, "", defaulthost)
                if not listed(domain, locals_):
                    remote.append(rcpt)
                    continue
                try:
                    deliver_local(local.lower(), e["from"], rcpt, data)
                    log("delivered to %s" % rcpt)
                except KeyError:
                    log("bounced: no user %s" % local)
            if remote:
                log("kept in the queue (no remote delivery in the sandbox): %s"
                    % " ".join(remote))
                os.makedirs(os.path.join(QUEUE, "remote"), mode=0o700, exist_ok=True)
                os.rename(base + ".msg", os.path.join(QUEUE, "remote", env[:-4] + ".msg"))
                with open(os.path.join(QUEUE, "remote", env[:-4] + ".env"), "w",
                          encoding="utf-8") as f:
                    json.dump({"from": e["from"], "to": remote}, f)
                os.unlink(base + ".env")
            else:
                os.unlink(base + ".msg")
                os.unlink(base + ".env")


class Handler:
    """aiosmtpd handler: qmail-smtpd's rcpthosts, then the queue."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Accept a recipient whose domain qmail-smtpd would accept."""
        hosts = control("rcpthosts")
        domain = address.rpartition("@")[2] if "@" in address else ""
        if hosts is not None and domain and not listed(domain, hosts):
            return "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
        envelope.rcpt_tos.append(address)
        return "250 ok"

    async def handle_DATA(self, server, session, envelope):
        """Queue the message; deliver it now when qmail runs."""
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        received = "Received: from %s by %s (sandbox qmail); %s\r\n" % (
            session.peer[0], socket.gethostname(), email.utils.formatdate())
        enqueue(envelope.mail_from, envelope.rcpt_tos, received.encode() + data)
        if qmail_running():
            flush()
        return "250 ok %d qp %d" % (time.time(), os.getpid())


def main(args):
    """flush, or inject FROM RCPT... with the message on stdin."""
    if args == ["flush"]:
        flush()
    elif len(args) >= 3 and args[0] == "inject":
        enqueue(args[1], args[2:], sys.stdin.buffer.read())
        if qmail_running():
            flush()
    else:
        sys.exit("usage: sandbox_smtpd.py flush | inject FROM RCPT...")


if __name__ == "__main__":
    main(sys.argv[1:])
