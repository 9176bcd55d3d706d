#!/usr/bin/env bash
# The prepared GPU check: what lstmkit does on a CUDA device, in one run of about 8 minutes.
#
#     bash bench/gpu.sh              (or: make bench-gpu)
#
#   layer      bench/lstm_layer.py --device cuda: lstmkit's LSTM against torch.nn.LSTM, same shapes and
#              weights, interleaved. On a GPU both run PyTorch's fused cuDNN kernel (lstmkit calls
#              torch.lstm, as nn.LSTM does), so this row is the fused cuDNN path beside nn.LSTM.
#   sentiment  lstmkit sentiment train --device cuda --minutes $MINUTES, the lecture's recipe on IMDB
#   textgen    lstmkit textgen train --device cuda --minutes $MINUTES, the fast preset on the shipped Nietzsche text
#   translate  lstmkit translate train --device cuda --minutes $MINUTES --preset best --bf16-output (English->German)
#   serve      bench/serve.py --device cuda --reps 1, serving the sentiment and textgen runs trained above
#
# bfloat16: `translate train --bf16-output` (autocast of the output layer while training, on in the best
# preset) is the only bf16/autocast training option there is; `sentiment train` and `textgen train`
# have none, so they train in float32 here. (`translate run|evaluate --bf16` decodes in bf16; not run.)
#
# Each step runs under `timeout`, its output in $GPU_OUT/<step>.log; a step that fails or times out
# is a "failed" row of the table, and the script goes on. At the end one markdown table (device,
# torch/CUDA/cuDNN versions, date) is printed and written to $GPU_OUT/table.md; the exit status is 1
# when a step failed. Without a CUDA device it prints one line, measures nothing and exits 0.
#
# Settings (environment):
#   PY        the python to run (default .venv/bin/python). Its torch must be a CUDA build: the venv
#             `make` installs has torch 2.13.0+cpu, which sees no GPU. lstmkit is imported from src/.
#   DATA      the data folder (default ../shared/data: imdb/aclImdb.tar.gz, anki/deu-eng.tsv); a step
#             whose data is missing is a "skipped" row. bench/serve.py reads ../shared/data/imdb itself.
#   MINUTES   training time per task (default 1)
#   STEPS     the steps to run (default "layer sentiment textgen translate serve")
#   LAYER_REPS, LAYER_SECONDS   bench/lstm_layer.py --reps (default 3) and --seconds (default 1)
#   GPU_OUT   where logs, runs and the table go (default bench/out/gpu)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/data}
MINUTES=${MINUTES:-1}
STEPS=${STEPS:-layer sentiment textgen translate serve}
LAYER_REPS=${LAYER_REPS:-3}
LAYER_SECONDS=${LAYER_SECONDS:-1}
GPU_OUT=${GPU_OUT:-bench/out/gpu}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

# --- is there a CUDA device? ------------------------------------------------------------------
probe_err=$(mktemp)
trap 'rm -f "$probe_err"' EXIT
if ! probe=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()), torch.__version__)' 2>"$probe_err"); then
  echo "bench/gpu.sh: $PY could not import torch:" >&2
  cat "$probe_err" >&2
  exit 2
fi
read -r cuda torch_version <<<"$probe"
if [ "$cuda" != 1 ]; then
  hint=""
  if [[ $torch_version == *+cpu ]] && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    hint=" (nvidia-smi sees a GPU, but torch $torch_version is a CPU-only build: set PY to a python with a CUDA build)"
  fi
  echo "bench/gpu.sh: no CUDA device is visible to $PY (torch $torch_version); nothing was measured$hint"
  exit 0
fi

mkdir -p "$GPU_OUT"
RUNS=$GPU_OUT/runs
ROWS=()       # the table's rows, in order
FAILED=0

# One markdown cell: no newlines, no bare pipes.
cell() { printf '%s' "$*" | tr '\n\t' '  ' | sed 's/|/\\|/g'; }

# add_row STEP STATUS SECONDS RESULT LOG
add_row() { ROWS+=("| $(cell "$1") | $(cell "$2") | $3 | $(cell "$4") | \`$5\` |"); }

# summarise KIND LOG [RUN] -> lines "ROW-SUFFIX<US>RESULT" (one row each; US: the ASCII unit separator) from a step's log and run folder
summarise() {
  "$PY" - "$@" <<'PYEOF'
import json, re, sys
from pathlib import Path

kind, log = sys.argv[1], Path(sys.argv[2])
lines = log.read_text(errors="replace").splitlines()
US = "\x1f"
table = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
         if line.startswith("| ") and not line.startswith("|---")]
if kind == "layer":  # | row | variant | samples/s | ratio to first |
    rows = {}
    for row, variant, rate, ratio in (r for r in table if r[0] != "row"):
        text = f"{variant} {rate.split(' [')[0]}/s" + (f" ({ratio})" if ratio else "")
        rows.setdefault(row, []).append(text)
    for row, texts in rows.items():
        print(f": {row}{US}" + "; ".join(texts))
elif kind == "serve":  # | task | clients | batching | requests/s | chars/s | p50 ms | p99 ms |
    for task in ("sentiment", "generate"):
        got = {r[2]: r for r in table if r[0] == task and r[1] == "32"}
        if got:
            print(f": {task}, 32 clients{US}" + "; ".join(
                f"batching {way}: {r[3]} req/s" + (f", {r[4]} chars/s" if r[4] != "-" else "") + f", p99 {r[6]} ms"
                for way, r in got.items()))
    alone = [r for r in table if r[0].startswith(("sentiment, 32", "generation,"))]
    for r in alone:
        print(f": model alone, {r[0]}{US}one request {r[1]}, 32 at once {r[2]} ({r[3]} batching gain)")
else:  # a training run: its history.jsonl and the line the command printed about the best epoch
    history = [json.loads(line) for line in (Path(sys.argv[3]) / "history.jsonl").read_text().splitlines() if line]
    last = history[-1]
    parts = [f"{len(history)} epoch{'s' if len(history) != 1 else ''}"
             + (" (the last cut short by --minutes)" if last.get("stopped_early") else ""),
             f"{sum(r.get('seconds', 0) for r in history):.0f} s training"]
    if isinstance(last.get("loss"), (int, float)):
        parts.append(f"last train loss {last['loss']:.4g}")
    parts += [f"{k} {v:.4g}" for k, v in last.items() if k.startswith("val_") and k != "val_seconds"
              and isinstance(v, (int, float))]
    best = [line.strip() for line in lines if re.match(r"(best epoch|test accuracy)", line.strip())]
    print(US + "; ".join(parts + best))
PYEOF
}

# step NAME TIMEOUT_S SUMMARY-KIND RUN-FOLDER COMMAND... : runs it, logs it, adds its rows
step() {
  local name=$1 limit=$2 kind=$3 run=$4 log="$GPU_OUT/$1.log" rc=0 started seconds status result
  shift 4
  echo "bench/gpu.sh: $name (timeout ${limit} s): $*"
  printf '$ %s\n' "$*" >"$log"
  started=$(date +%s)
  timeout --kill-after=30 "$limit" "$@" >>"$log" 2>&1 || rc=$?
  seconds=$(( $(date +%s) - started ))
  if [ "$rc" = 0 ]; then
    local lines
    if lines=$(summarise "$kind" "$log" "$run" 2>>"$log") && [ -n "$lines" ]; then
      while IFS=$'\x1f' read -r suffix result; do
        add_row "$name$suffix" ok "$seconds" "$result" "$log"
      done <<<"$lines"
    else
      add_row "$name" ok "$seconds" "finished; no summary could be read, see the log" "$log"
    fi
  else
    FAILED=1
    case $rc in
      124|137) status="failed: timed out after $limit s" ;;
      *) status="failed: exit $rc" ;;
    esac
    result=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | cut -c 1-200)
    add_row "$name" "$status" "$seconds" "$result" "$log"
  fi
  echo "bench/gpu.sh: $name: $([ "$rc" = 0 ] && echo ok || echo "failed (exit $rc)"), ${seconds} s, log $log"
}

skip() { add_row "$1" skipped - "$2" "-"; echo "bench/gpu.sh: $1 skipped: $2"; }

wants() { [[ " $STEPS " == *" $1 "* ]]; }

train_limit=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 + 300 }')  # reading the data, validation, test
IMDB=$DATA/imdb/aclImdb.tar.gz
PAIRS=$DATA/anki/deu-eng.tsv

# (a, d) the layer benchmark: the fused cuDNN path beside torch.nn.LSTM
if wants layer; then
  step layer 300 layer - "$PY" bench/lstm_layer.py --device cuda --reps "$LAYER_REPS" --seconds "$LAYER_SECONDS" \
    --json "$GPU_OUT/layer.json"
fi

# (b) a minute of each task's training on cuda; each run folder is made anew (train refuses to mix runs)
if wants sentiment; then
  if [ -f "$IMDB" ]; then
    rm -rf "$RUNS/sentiment"
    step sentiment "$train_limit" train "$RUNS/sentiment" "$PY" -m lstmkit sentiment train --data "$IMDB" \
      --out "$RUNS/sentiment" --device cuda --minutes "$MINUTES" --quiet
  else
    skip sentiment "no IMDB data at $IMDB (set DATA)"
  fi
fi
if wants textgen; then
  rm -rf "$RUNS/textgen"
  step textgen "$train_limit" train "$RUNS/textgen" "$PY" -m lstmkit textgen train \
    --out "$RUNS/textgen" --device cuda --minutes "$MINUTES" --quiet
fi
if wants translate; then
  if [ -f "$PAIRS" ]; then
    rm -rf "$RUNS/translate"
    step translate "$train_limit" train "$RUNS/translate" "$PY" -m lstmkit translate train --pairs "$PAIRS" \
      --out "$RUNS/translate" --preset best --bf16-output --device cuda --minutes "$MINUTES" --quiet
  else
    skip translate "no English-German pairs at $PAIRS (set DATA)"
  fi
fi

# (c) serving under load on cuda (bench/serve.py has --device); it reads IMDB reviews from ../shared/data
# itself, and trains two small runs first unless the ones above are there
if wants serve; then
  if [ -f ../shared/data/imdb/aclImdb.tar.gz ]; then
    runs=()
    if [ -f "$RUNS/sentiment/model.safetensors" ] && [ -f "$RUNS/textgen/model.safetensors" ]; then
      runs=(--sentiment "$RUNS/sentiment" --textgen "$RUNS/textgen")
    fi
    step serve 420 serve - "$PY" bench/serve.py --device cuda --reps 1 "${runs[@]}"
  else
    skip serve "bench/serve.py needs ../shared/data/imdb/aclImdb.tar.gz"
  fi
fi

# --- the table --------------------------------------------------------------------------------
versions=$("$PY" -c 'import torch
print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"cuDNN {torch.backends.cudnn.version()} (enabled: {torch.backends.cudnn.enabled})")' 2>/dev/null) ||
  versions="(the device and versions could not be read)"
commit=$(git rev-parse --short HEAD 2>/dev/null) || commit="unknown"
{
  echo "GPU check (bench/gpu.sh), $(date -u '+%Y-%m-%d %H:%M UTC'): $versions; lstmkit commit $commit," \
       "host $(nproc) CPU cores; training $MINUTES min per task"
  echo
  echo "| step | status | seconds | result | log |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} >"$GPU_OUT/table.md"
echo
cat "$GPU_OUT/table.md"
exit "$FAILED"
