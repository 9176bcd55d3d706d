#!/usr/bin/env bash
# The whole suite under settings that change which kernels run, one after another: the suite must
# pass under each (its float comparisons carry stated tolerances; nothing depends on the CPU's
# instruction set, the thread count, the locale or the time zone).
#   bash bench/portability.sh [SETTING ...]     (default: every setting below; `make test-portability`)
# Each setting is an environment assignment; one summary line per setting goes to
# bench/out/portability.txt (the full log beside it). Needs the venv `make test` makes.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
SETTINGS=("$@")
if [ ${#SETTINGS[@]} = 0 ]; then
  SETTINGS=(ONEDNN_MAX_CPU_ISA=SSE41 ONEDNN_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=ALL ATEN_CPU_CAPABILITY=default
            ATEN_CPU_CAPABILITY=avx2 LSTMKIT_STEP_LOOPS=python OMP_NUM_THREADS=1 LC_ALL=C.UTF-8 TZ=Pacific/Chatham)
fi
capability=$(.venv/bin/python -c "import torch; print(torch.backends.cpu.get_cpu_capability())")
status=0
for setting in "${SETTINGS[@]}"; do
  log="$OUT/portability-${setting//[^A-Za-z0-9_.-]/_}.log"
  start=$(date +%s)
  env "$setting" .venv/bin/python -m pytest -q -p no:cacheprovider >"$log" 2>&1
  code=$?
  [ $code = 0 ] || status=1
  summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed)" "$log" | tail -1 | tr -d '=')
  echo "$(date -u +%F) $(uname -m) cpu=$capability $setting: exit $code,$summary ($(( $(date +%s) - start )) s)" \
    | tee -a "$OUT/portability.txt"
done
exit $status
