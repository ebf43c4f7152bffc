#!/usr/bin/env python3
"""The sandbox tree the demo server's file, shell and database tools are fuzzed in.

    python3 testbed/sandbox_layout.py DIR    # lays the tree out in DIR (which must not
                                             # exist yet) and prints the root directory

The server runs with its working directory set to `root/`; everything else holds canary
tokens that a well-behaved server never reveals:

    DIR/                        (BASE, the parent of the root)
      secret.txt                MCPFUZZ-CANARY-<16 hex>
      outside/secret.txt        canary
      outside/linked.txt        canary
      root_old/secret.txt       canary (a sibling whose name starts with "root")
      root-backup/secret.txt    canary (another one)
      root/                     ROOT, the server's working directory
        README.md               MCPFUZZ-ALLOWED-<16 hex>
        docs/guide.txt          allowed content
        link.txt   -> ../outside/linked.txt
        linked-dir -> ../outside

Standard library only.
"""

import os
import secrets
import sys

CANARY_FILES = (
    "secret.txt",
    "outside/secret.txt",
    "outside/linked.txt",
    "root_old/secret.txt",
    "root-backup/secret.txt",
)


def build(base):
    """Lays the tree out in `base` (created, must not exist yet). Returns a dict: base,
    root (both real paths), canaries {relative path: token}, allowed {relative path:
    token} (paths relative to base)."""
    os.makedirs(base)
    base = os.path.realpath(base)
    root = os.path.join(base, "root")
    canaries, allowed = {}, {}
    for relative in CANARY_FILES:
        token = "MCPFUZZ-CANARY-" + secrets.token_hex(8)
        path = os.path.join(base, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(token + "\n")
        canaries[relative] = token
    os.makedirs(os.path.join(root, "docs"))
    readme = "MCPFUZZ-ALLOWED-" + secrets.token_hex(8)
    with open(os.path.join(root, "README.md"), "w") as handle:
        handle.write("# Sandbox\n\n" + readme + "\n")
    allowed["root/README.md"] = readme
    guide = "MCPFUZZ-ALLOWED-" + secrets.token_hex(8)
    with open(os.path.join(root, "docs", "guide.txt"), "w") as handle:
        handle.write("zebra\napple\n" + guide + "\nmango\n")
    allowed["root/docs/guide.txt"] = guide
    os.symlink(os.path.join("..", "outside", "linked.txt"), os.path.join(root, "link.txt"))
    os.symlink(os.path.join("..", "outside"), os.path.join(root, "linked-dir"))
    return {"base": base, "root": root, "canaries": canaries, "allowed": allowed}


def main(argv):
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.stderr.write("usage: sandbox_layout.py DIR\n")
        return 2
    try:
        layout = build(argv[0])
    except OSError as exc:
        sys.stderr.write("sandbox_layout.py: %s\n" % exc)
        return 1
    print(layout["root"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
