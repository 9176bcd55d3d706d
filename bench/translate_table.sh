#!/usr/bin/env bash
# Translation ladders on deu-eng, every row trained for the same wall time and scored greedily on the
# same Anki test split (the split depends only on the file and --split-seed) and on HELDOUT, longer
# sentences from a source disjoint from Anki's (bench/data/en-de-heldout: TED talks).
#   bash bench/translate_table.sh [ROW ...]     (default: the lecture's ladder; runs go to runs/translate/)
#   bash bench/translate_table.sh $(bash bench/translate_table.sh --generalise)   the best recipe's ladder
# MINUTES (default 10) of training per row, one torch thread per run (OMP_NUM_THREADS=1) so that
# another job can use the second core. One JSON line per row is appended to runs/translate/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
ANKI=${ANKI:-../shared/data/anki}
OUT=${OUT:-runs/translate}
MINUTES=${MINUTES:-10}
LSTMKIT=${LSTMKIT:-.venv/bin/lstmkit}
HELDOUT=${HELDOUT:-bench/data/en-de-heldout/en-de.tsv}

WORD="--level word --embedding-dim 128 --bf16-output"
SUBWORD="--level subword --source-vocab 8000 --target-vocab 8000"
# the best preset as it was before subwords, label smoothing and scaled attention joined it (today's preset is
# the last row); later options override earlier ones
WORD_BEST="--preset best --level word --source-vocab 12000 --target-vocab 16000 --label-smoothing 0 --no-scaled-attention"
declare -A ROWS=(
  [char]="--preset lecture"
  [char-bilstm]="--preset lecture --encoder bilstm"
  [word]="--preset lecture $WORD"
  [word-bilstm]="--preset lecture $WORD --encoder bilstm"
  [word-attention]="--preset lecture $WORD --attention"
  [word-bilstm-attention]="--preset lecture $WORD --encoder bilstm --attention"
  [multitask]="--preset lecture $WORD --encoder bilstm --attention --also $ANKI/fra-eng.tsv $ANKI/spa-eng.tsv $ANKI/nld-eng.tsv"
  # the best recipe, then what should carry it past Anki's short sentences
  [best]="$WORD_BEST"
  [best-subword]="$WORD_BEST $SUBWORD"
  [best-subword-smoothing]="$WORD_BEST $SUBWORD --label-smoothing 0.1"
  [best-scaled]="$WORD_BEST --scaled-attention"
  [best-subword-smoothing-scaled]="$WORD_BEST $SUBWORD --label-smoothing 0.1 --scaled-attention"
)
ORDER="char char-bilstm word word-bilstm word-attention word-bilstm-attention multitask"
GENERALISE="best best-subword best-subword-smoothing best-scaled best-subword-smoothing-scaled"
if [ "${1:-}" = --generalise ]; then echo "$GENERALISE"; exit 0; fi
mkdir -p "$OUT"

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
  OMP_NUM_THREADS=1 $LSTMKIT translate evaluate "$run" --pairs "$HELDOUT" --json > "$run/heldout.json"
  python3 - "$row" "$wall" "$run" "${ROWS[$row]}" >> "$OUT/results.jsonl" <<'PY'
import json, sys
row, wall, run, options = sys.argv[1:]
history = [json.loads(line) for line in open(f"{run}/history.jsonl")]
best = max(history, key=lambda r: r["val_bleu"])
test, heldout = (json.load(open(f"{run}/{name}.json")) for name in ("evaluation", "heldout"))
print(json.dumps({"row": row, "options": options, "test_bleu": round(test["bleu"], 2), "test_chrf": round(test["chrf"], 2),
                  "exact_match": round(test["exact_match"], 4), "heldout_bleu": round(heldout["bleu"], 2),
                  "heldout_chrf": round(heldout["chrf"], 2), "best_epoch": best["epoch"], "epochs": len(history),
                  "val_bleu": round(best["val_bleu"], 2), "train_s": round(sum(r["seconds"] for r in history)),
                  "wall_s": int(wall)}))
PY
  tail -n 1 "$OUT/results.jsonl"
done
