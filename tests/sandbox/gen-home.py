#!/usr/bin/python3
"""Sandbox data with the shape of a lab server's /home (run inside a
sandbox machine, as its root, from standard input:
tests/sandbox/sandbox.sh exec DIR MACHINE python3 - ARGS < gen-home.py).

  gen-home.py accounts USERS        the lab's users u0001.. (UID 5001..),
                                    as the operator makes them on both
                                    machines before the night (same UIDs)
  gen-home.py create MB FILES USERS their homes: FILES files of MB in all,
                                    most small, a few large (a long tail),
                                    in a few directories each, and a
                                    Maildir with messages
  gen-home.py churn PERCENT         what happens while a warm pass runs:
                                    PERCENT of the files rewritten, a
                                    tenth of that deleted, new mail for
                                    a fifth of the users

Deterministic (a fixed seed): the same arguments give the same tree.
Prints what it did, one line.
"""
import os
import random
import sys

UID0 = 5001
HOME = "/home"


def user(i):
    return "u%04d" % (i + 1)


def accounts(n):
    have = {l.split(":")[0] for l in open("/etc/passwd")}
    lines = {"/etc/passwd": [], "/etc/group": [], "/etc/shadow": [], "/etc/gshadow": []}
    for i in range(n):
        u, uid = user(i), UID0 + i
        if u in have:
            continue
        lines["/etc/passwd"].append("%s:x:%d:%d:lab user:%s/%s:/bin/sh\n" % (u, uid, uid, HOME, u))
        lines["/etc/group"].append("%s:x:%d:\n" % (u, uid))
        lines["/etc/shadow"].append("%s:!:19000:0:99999:7:::\n" % u)
        lines["/etc/gshadow"].append("%s:!::\n" % u)
    for f, add in lines.items():
        if add:
            with open(f, "a") as fp:
                fp.writelines(add)
    print("accounts: %d lab users (UID %d-%d)" % (n, UID0, UID0 + n - 1))


def sizes(total, files, rng):
    # A long tail: weights from a Pareto distribution, scaled to the total.
    w = [rng.paretovariate(1.2) for _ in range(files)]
    s = sum(w)
    return [max(1, int(total * x / s)) for x in w]


def create(mb, files, users):
    rng = random.Random(20161126)
    total = mb * 1024 * 1024
    mails = max(1, files // 10)
    sz = sizes(total, files - mails, rng)
    blob = os.urandom(1 << 20)
    written = 0
    for k, size in enumerate(sz):
        i = k % users
        u, uid = user(i), UID0 + i
        d = os.path.join(HOME, u, ("data", "public_html", "src", "papers")[k % 4])
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "f%06d.dat" % k)
        off = rng.randrange(0, len(blob))
        with open(p, "wb") as fp:
            left = size
            while left > 0:
                chunk = blob[off:off + left] or blob[:left]
                fp.write(chunk)
                left -= len(chunk)
                off = 0
        os.chown(p, uid, uid)
        written += size
    for k in range(mails):
        i = rng.randrange(users)
        mail(i, "old mail %d" % k, rng)
    for i in range(users):
        u, uid = user(i), UID0 + i
        for root, dirs, fs in os.walk(os.path.join(HOME, u)):
            os.chown(root, uid, uid)
            for x in fs:
                os.chown(os.path.join(root, x), uid, uid)
    print("create: %d files, %d MB, %d users, %d mails" % (files, written >> 20, users, mails))


def mail(i, subject, rng):
    u, uid = user(i), UID0 + i
    md = os.path.join(HOME, u, "Maildir")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    name = "%d.M%dP%d.ika-itpass" % (1480000000 + rng.randrange(10 ** 7), rng.randrange(10 ** 6), i)
    p = os.path.join(md, "new", name)
    body = "".join("line %d of a message to %s\n" % (n, u) for n in range(rng.randrange(5, 200)))
    with open(p, "w") as fp:
        fp.write("From: someone@example.org\nTo: %s@itpass.scitec.kobe-u.ac.jp\nSubject: %s\n\n%s" % (u, subject, body))
    os.chown(p, uid, uid)


def churn(percent):
    rng = random.Random(20161127)
    paths = []
    for root, dirs, fs in os.walk(HOME):
        dirs.sort()
        top = os.path.relpath(root, HOME).split(os.sep)[0]
        if not top.startswith("u") or "Maildir" in root:
            continue
        paths.extend(os.path.join(root, f) for f in sorted(fs))
    n = max(1, len(paths) * percent // 100)
    picked = rng.sample(paths, min(n, len(paths)))
    dele = picked[: max(1, n // 10)]
    mod = picked[len(dele):]
    for p in mod:
        st = os.stat(p)
        with open(p, "ab") as fp:
            fp.write(b"changed while the warm pass ran\n")
        os.chown(p, st.st_uid, st.st_gid)
    for p in dele:
        os.unlink(p)
    users = sorted(d for d in os.listdir(HOME) if d.startswith("u") and d[1:].isdigit())
    for k, u in enumerate(rng.sample(users, max(1, len(users) // 5))):
        mail(int(u[1:]) - 1, "new mail %d" % k, rng)
    print("churn: %d files rewritten, %d deleted, new mail for %d users" % (len(mod), len(dele), max(1, len(users) // 5)))


def main(argv):
    if len(argv) >= 2 and argv[1] == "accounts":
        accounts(int(argv[2]))
    elif len(argv) >= 5 and argv[1] == "create":
        create(int(argv[2]), int(argv[3]), int(argv[4]))
    elif len(argv) >= 3 and argv[1] == "churn":
        churn(int(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
