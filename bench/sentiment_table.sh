#!/usr/bin/env bash
# The lecture's IMDB table, every row trained and evaluated on the full 25,000-review test set.
#   bash bench/sentiment_table.sh [ROW ...]     (default: every row; runs go to runs/table/)
# Each row: lstmkit sentiment train ... then evaluate --json; one line per run is appended to
# runs/table/results.jsonl. One torch thread per run (unless OMP_NUM_THREADS says more) so that two rows can
# run side by side on a 2-core machine. Row pretrained-shared reuses one vectors file for every seed
# (pretrained trains word2vec inside each run, ~7 minutes more a run), and the best rows another; the best-lm
# rows start every seed from one language model pretrained with the best rows' shape (LM_EPOCHS, default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/imdb/aclImdb.tar.gz}
OUT=${OUT:-runs/table}
LSTMKIT=${LSTMKIT:-.venv/bin/lstmkit}
mkdir -p "$OUT"

BEST_PLUS="--preset best --pretrained $OUT/w2v128.txt --adversarial 0.02 --ema 0.999 --val-split 0.05 --num-words 60000"
declare -A ROWS=(
  [lstm]="--preset lecture"
  [lstm-padded]="--preset lecture --batching padded"
  [lstm-ema]="--preset lecture --ema 0.99"
  [lstm-val-loss]="--preset lecture --monitor val_loss"
  [lstm-val-movie]="--preset lecture --val-by-group"
  [simplernn]="--preset lecture --rnn simplernn"
  [lstm-dropout]="--preset lecture --dropout 0.2"
  [stacked]="--preset lecture --layers 3 --dropout 0.2"
  [bilstm]="--preset lecture --bidirectional --dropout 0.2"
  [pretrained]="--preset lecture --bidirectional --dropout 0.2 --pretrained word2vec --freeze-embedding"
  [pretrained-shared]="--preset lecture --bidirectional --dropout 0.2 --pretrained $OUT/w2v32.txt --freeze-embedding"
  [best]="--preset best --pretrained $OUT/w2v128.txt"
  [lstm-adversarial]="--preset lecture --adversarial 0.02"
  [best-adversarial]="--preset best --pretrained $OUT/w2v128.txt --adversarial 0.02"
  # toward 93%: adversarial training, weights averaged, 95% of the training texts training, 60,000 words
  [best-adversarial-plus]="$BEST_PLUS"
  # and the frozen word2vec embedding trainable from epoch 21 on
  [best-adversarial-unfreeze]="$BEST_PLUS --unfreeze-after 20"
  # and the embedding, once trainable, at a tenth of the other layers' rate
  [best-adversarial-unfreeze-slow]="$BEST_PLUS --unfreeze-after 20 --embedding-lr 2e-4"
  # and once trainable, only the 10,000 most frequent words' vectors move (the rarer ones are often one film's names)
  [best-adversarial-unfreeze-frequent]="$BEST_PLUS --unfreeze-after 20 --trainable-words 10000"
  [best-lm]="--preset best --init-from $OUT/lm --gradual-unfreezing --discriminative-lr 2.6"
  [best-lm-init]="--preset best --init-from $OUT/lm"
  [best-lm-adversarial]="--preset best --init-from $OUT/lm --gradual-unfreezing --discriminative-lr 2.6 --adversarial 0.02"
)
SEEDS=${SEEDS:-0 1 2}

for row in "${@:-${!ROWS[@]}}"; do
  # the shared row's 32-d word2vec vectors, trained once (seed 0) on the unlabelled and training reviews
  if [ "$row" = pretrained-shared ] && [ ! -f "$OUT/w2v32.txt" ]; then
    OMP_NUM_THREADS=1 $LSTMKIT sentiment vectors --data "$DATA" --dim 32 --seed 0 --out "$OUT/w2v32.txt" \
      > "$OUT/w2v32.log" 2>&1
  fi
  # the best recipe's 128-d vectors, as docs/RESULTS.md measured it (lstmkit sentiment vectors --dim 128)
  if [[ "$row" = best* ]] && [ ! -f "$OUT/w2v128.txt" ]; then
    OMP_NUM_THREADS=1 $LSTMKIT sentiment vectors --data "$DATA" --dim 128 --out "$OUT/w2v128.txt" \
      > "$OUT/w2v128.log" 2>&1
  fi
  # the best rows' layers pretrained once as a language model (LM_EPOCHS epochs, resumable) for best-lm to start from
  if [[ "$row" = best-lm* ]]; then
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} $LSTMKIT sentiment pretrain --data "$DATA" --preset best --pretrained \
      "$OUT/w2v128.txt" --epochs "${LM_EPOCHS:-3}" --out "$OUT/lm" --quiet --resume >> "$OUT/lm.log" 2>&1
  fi
  for seed in $SEEDS; do
    run="$OUT/$row-s$seed"
    [ -f "$run/model.safetensors" ] && [ -f "$run/evaluation.json" ] && continue
    start=$(date +%s)
    # a run cut short (a stopped job, a restarted machine) goes on where it stopped: --resume
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} $LSTMKIT sentiment train --data "$DATA" --out "$run" --seed "$seed" --quiet --resume \
      ${ROWS[$row]} >> "$run.log" 2>&1
    wall=$(( $(date +%s) - start ))
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} $LSTMKIT sentiment evaluate "$run" --data "$DATA" --json > "$run/evaluation.json"
    python3 - "$row" "$seed" "$wall" "$run" "${ROWS[$row]}" >> "$OUT/results.jsonl" <<'EOF'
import json, sys
row, seed, wall, run, options = sys.argv[1:]
history = [json.loads(line) for line in open(f"{run}/history.jsonl")]
best = history[history[-1]["best_epoch"] - 1]
evaluation = json.load(open(f"{run}/evaluation.json"))
print(json.dumps({"row": row, "seed": int(seed), "options": options, "test_accuracy": evaluation["accuracy"],
                  "best_epoch": best["epoch"], "val_accuracy": best["val_accuracy"], "epochs": len(history),
                  "train_wall_s": int(wall),  # this invocation's: a resumed run's last part
                  "train_s": round(sum(r["seconds"] for r in history)),
                  "median_epoch_s": sorted(r["seconds"] for r in history)[len(history) // 2]}))
EOF
    tail -n 1 "$OUT/results.jsonl"
  done
done
