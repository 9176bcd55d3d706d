#!/usr/bin/env bash
# The lecture's translation ladder on deu-eng, every row trained for the same wall time and scored
# on the same test split (the split depends only on the file and --split-seed).
#   bash bench/translate_table.sh [ROW ...]     (default: every row; runs go to runs/translate/)
# MINUTES (default 10) of training per row, one torch thread per run (OMP_NUM_THREADS=1) so that
# another job can use the second core. One JSON line per row is appended to runs/translate/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
ANKI=${ANKI:-../shared/data/anki}
OUT=${OUT:-runs/translate}
MINUTES=${MINUTES:-10}
LSTMKIT=${LSTMKIT:-.venv/bin/lstmkit}
mkdir -p "$OUT"

WORD="--level word --embedding-dim 128 --bf16-output"
declare -A ROWS=(
  [char]="--preset lecture"
  [char-bilstm]="--preset lecture --encoder bilstm"
  [word]="--preset lecture $WORD"
  [word-bilstm]="--preset lecture $WORD --encoder bilstm"
  [word-attention]="--preset lecture $WORD --attention"
  [word-bilstm-attention]="--preset lecture $WORD --encoder bilstm --attention"
  [multitask]="--preset lecture $WORD --encoder bilstm --attention --also $ANKI/fra-eng.tsv $ANKI/spa-eng.tsv $ANKI/nld-eng.tsv"
)
ORDER="char char-bilstm word word-bilstm word-attention word-bilstm-attention multitask"

for row in ${@:-$ORDER}; do
  run="$OUT/$row"
  [ -f "$run/evaluation.json" ] && continue
  rm -rf "$run"
  start=$(date +%s)
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=1 $LSTMKIT translate train --pairs "$ANKI/deu-eng.tsv" --out "$run" --minutes "$MINUTES" \
    --epochs 100 --quiet ${ROWS[$row]} > "$run.log" 2>&1
  wall=$(( $(date +%s) - start ))
  OMP_NUM_THREADS=1 $LSTMKIT translate evaluate "$run" --json > "$run/evaluation.json"
  python3 - "$row" "$wall" "$run" "${ROWS[$row]}" >> "$OUT/results.jsonl" <<'PY'
import json, sys
row, wall, run, options = sys.argv[1:]
history = [json.loads(line) for line in open(f"{run}/history.jsonl")]
best = max(history, key=lambda r: r["val_bleu"])
test = json.load(open(f"{run}/evaluation.json"))
print(json.dumps({"row": row, "options": options, "test_bleu": round(test["bleu"], 2), "test_chrf": round(test["chrf"], 2),
                  "exact_match": round(test["exact_match"], 4), "best_epoch": best["epoch"], "epochs": len(history),
                  "val_bleu": round(best["val_bleu"], 2), "train_s": round(sum(r["seconds"] for r in history)),
                  "wall_s": int(wall)}))
PY
  tail -n 1 "$OUT/results.jsonl"
done
