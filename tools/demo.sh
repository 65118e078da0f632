#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - the main job, behind `make demo`: build everything, boot the
# newest supported kernel under QEMU, load usched.ko, print the module's
# self-description, then run the demo program (100,000 tasks, tasks blocking
# in plain syscalls, CPU hogs, a 1 ms ticker) once with the module and once
# in fallback mode, each printing its table.
#
# Env: KVER (kernel id, default: the newest supported), DEMO_ARGS (extra
#      arguments for the demo program), VM_ARGS (extra tools/vm-run options).

set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
CACHE=${USCHED_CACHE:-$HOME/.cache/usched}
KVER=${KVER:-$(head -n 1 "$CACHE/kernels.list")}
echo "demo: building the module for $KVER, the library and the tools"
make --no-print-directory -j"$(nproc)" module lib tools KVER="$KVER" >/dev/null
progs=()
[ -x build/tools/usched-info/usched-info ] && progs+=("tools/usched-info/usched-info")
[ -x build/tools/demo/demo ] || { echo "demo: build/tools/demo/demo was not built" >&2; exit 1; }
progs+=("tools/demo/demo --mode kernel ${DEMO_ARGS:-}" "tools/demo/demo --mode fallback ${DEMO_ARGS:-}")
echo "demo: booting $KVER in QEMU (about 5 s), then the demo (a minute or two under TCG)"
tools/vm-run -x -k "$KVER" ${VM_ARGS:-} -- "${progs[@]}"
