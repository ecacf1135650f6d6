#!/usr/bin/env bash
# Creates ./.venv (Python >= 3.11) and installs medq into it with the pinned stack (constraints.txt).
#   bash scripts/install.sh          the toolkit
#   bash scripts/install.sh --dev    plus test and benchmark tools (and, on Linux x86_64, .venv-vllm as --vllm does)
#   bash scripts/install.sh --vllm   .venv-vllm: vLLM's OpenAI server for `serve=vllm` (see docs/serving.md), and
#                                    .venv (the toolkit) too when it is missing
# Re-running is cheap: pip skips what is already installed, and its cache keeps the downloads.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="" medq=1 vllm=0
for arg in "$@"; do
  case "$arg" in
    --dev) extras="[dev]"; [[ "$(uname -sm)" == "Linux x86_64" ]] && vllm=1 ;;
    --vllm) vllm=1; medq=0 ;;
    *) echo "install.sh: unknown option $arg (use --dev and/or --vllm)" >&2; exit 1 ;;
  esac
done
[[ "$*" == *--dev* ]] && medq=1
# --vllm on a fresh clone: the assistant demo needs the toolkit as well (`--vllm && .venv/bin/python -m medq ...`)
[[ $vllm == 1 && ! -x .venv/bin/python ]] && medq=1

python_bin="${PYTHON:-}"
if [[ -z "$python_bin" ]]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python_bin="$candidate"; break
    fi
  done
fi
[[ -n "$python_bin" ]] || { echo "install.sh: need Python >= 3.11 (set PYTHON=/path/to/python)" >&2; exit 1; }

if [[ $medq == 1 ]]; then
  [[ -x .venv/bin/python ]] || "$python_bin" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade "pip>=24"
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extras}"
  # --dev: the memory-store tests start a real PostgreSQL (Debian's postgresql); install it where we can
  if [[ -n "$extras" ]] && ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
     && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  # --dev: the chat-app browser test drives Debian's Chromium (Playwright cannot download its own browser here);
  # a CJK font so screenshots show the Chinese text
  if [[ -n "$extras" ]] && ! command -v chromium >/dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
  fi
  echo "medq installed in $(pwd)/.venv"
fi
[[ $vllm == 1 ]] && bash scripts/install_vllm.sh "$python_bin"
exit 0
