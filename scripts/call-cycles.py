#!/usr/bin/env python3
"""Call cycles between hostswap's source files.

Reads src/*.c, finds which file defines each function (a name at the
start of a line followed by '(' , the style's definitions), and which
other files' functions each file uses. Prints every group of files that
call each other in a cycle (a strongly connected component of that
graph), with the calls that make it. Exits 1 if a group is not one of
ALLOWED below, or if an ALLOWED group no longer exists as written (the
list must say what is true).

    python3 scripts/call-cycles.py [SRCDIR]
"""
import collections
import glob
import os
import re
import sys

# Each: the files of one group, and why it may stay.
ALLOWED = {
    # Split halves of one module: the session and its jobs and tunnels.
    frozenset({"remote", "remote-job", "remote-tunnel"}): "remote: split halves",
    # Split halves of one module: preflight and its host, local and
    # server checks.
    frozenset({"preflight", "preflight-host", "preflight-local",
               "preflight-servers"}): "preflight: split halves",
    # Split halves of one module: the checks on the loop, and what an
    # answer says.
    frozenset({"probe", "probe-read"}): "probe: split halves",
}


def graph(src):
    texts, defs = {}, {}
    for path in sorted(glob.glob(os.path.join(src, "*.c"))):
        name = os.path.basename(path)[:-2]
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
        # A type's name, or a member's, is no use of a function of that
        # name.
        text = re.sub(r"\b(struct|enum|union)\s+[a-z_][a-z0-9_]*", " ", text)
        text = re.sub(r"(->|\.)\s*[a-z_][a-z0-9_]*", " ", text)
        texts[name] = text
        for m in re.finditer(r"^([a-z_][a-z0-9_]*)\(", text, flags=re.M):
            defs.setdefault(m.group(1), name)
    edges = collections.defaultdict(set)
    calls = collections.defaultdict(set)
    for name, text in texts.items():
        for word in set(re.findall(r"\b([a-z_][a-z0-9_]*)\b", text)):
            owner = defs.get(word)
            if owner is not None and owner != name:
                edges[name].add(owner)
                calls[(name, owner)].add(word)
    return sorted(texts), edges, calls


def components(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            out.append(group)

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return [frozenset(g) for g in out if len(g) > 1]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src")
    nodes, edges, calls = graph(src)
    found = components(nodes, edges)
    bad = 0
    for group in sorted(found, key=lambda g: (-len(g), sorted(g))):
        why = ALLOWED.get(group)
        print("%s %d files: %s" % ("ok " if why else "NEW", len(group),
                                   " ".join(sorted(group))))
        for a in sorted(group):
            for b in sorted(edges[a] & group):
                print("    %s -> %s: %s" % (a, b, ", ".join(
                    sorted(calls[(a, b)])[:4])))
        if why is None:
            bad += 1
    for group in ALLOWED:
        if group not in found:
            print("GONE (update ALLOWED): %s" % " ".join(sorted(group)))
            bad += 1
    print("call cycles: %d groups, %d not allowed" % (len(found), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
