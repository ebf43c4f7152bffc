#!/usr/bin/env bash
# Runs a git MCP server on a small repository made for it: creates REPO (git init, a few
# files, one commit, user.name and user.email set in the repository), then replaces itself
# with `SERVER [ARGS...] --repository REPO`.
#
#   testbed/real/git_server.sh {sandbox}/repo <cache>/venv/bin/mcp-server-git
#   testbed/real/git_server.sh {sandbox}/repo uvx mcp-server-git
#
# mcpfuzz replaces {sandbox} with a fresh directory per target process, so each server
# starts on a repository of its own. An existing REPO is used as it is.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: git_server.sh REPO SERVER [ARGS...]" >&2
    exit 2
fi
repo="$1"
shift

if [ ! -d "$repo/.git" ]; then
    mkdir -p "$repo/src" "$repo/docs"
    cd "$repo"
    git init --quiet --initial-branch=main .
    git config user.name "mcpfuzz"
    git config user.email "mcpfuzz@example.invalid"
    git config commit.gpgsign false
    printf '# demo\n\nA small project for the git server to look at.\n' >README.md
    printf 'def greet(name):\n    return f"Hello, {name}!"\n' >src/greet.py
    printf 'Usage: import greet and call greet("you").\n' >docs/usage.txt
    git add README.md src docs
    git commit --quiet -m "Initial commit"
    # A second branch and an uncommitted change, so diff, status and branch have something.
    git branch feature
    printf '\nSee docs/usage.txt.\n' >>README.md
    cd - >/dev/null
fi

exec "$@" --repository "$repo"
