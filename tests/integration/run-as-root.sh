#!/bin/sh
# Runs an integration test, which starts sshd hosts and so needs root.
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: integration tests start sshd and need root"
	exit 77
fi
exec sh "$@"
