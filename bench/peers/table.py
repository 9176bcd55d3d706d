"""The peers table from the RESULT lines of a run (standard library only), and its place in docs/RESULTS.md."""

import statistics
from collections import defaultdict

import specs

START, END = "<!-- peers:start -->", "<!-- peers:end -->"
PHASES = (("train", "training"), ("infer", "inference"))


def _number(value: float) -> str:
    return f"{value:,.0f}"


def _loads(rows: list[dict], phase: str) -> list[float]:
    """Every 1-minute load average taken at the start or end of these rows' timed phase."""
    return [load[0] for row in rows for load in (row[f"{phase}_loadavg"]["before"], row[f"{phase}_loadavg"]["after"])]


def _ratio(by: dict, model: str, batch: int, key: str, others: list[str]) -> str:
    """'median× (each rep)' of lstmkit's rate over the best of `others` measured in the same rep."""
    ratios = []
    for rep, row in sorted(by.get((model, batch, "lstmkit"), {}).items()):
        best = [by[(model, batch, v)][rep][key] for v in others
                if rep in by.get((model, batch, v), {}) and key in by[(model, batch, v)][rep]]
        if key in row and best:
            ratios.append(row[key] / max(best))
    return f"{statistics.median(ratios):.2f}× ({', '.join(f'{r:.2f}' for r in ratios)})" if ratios else "—"


def _share(by: dict, model: str, batch: int, key: str, gflops: float) -> str:
    """lstmkit's median rate as a share of what the matrix products alone would allow at `gflops`."""
    rates = [row[key] for row in by.get((model, batch, "lstmkit"), {}).values() if key in row]
    if not rates:
        return "—"
    cost = specs.forward_flops(model) * (specs.TRAINING_COST if key == "train_sps" else 1)
    return f"{100 * statistics.median(rates) * cost / (gflops * 1e9):.1f}%"


def render(results: list[dict], header: str) -> str:
    """Markdown: per model, batch and phase, each variant's median samples/s over the reps, the per-rep
    ratios lstmkit / best peer (best of the peers measured in that same rep) and their median (and
    lstmkit / lstmkit before, with a before run), lstmkit's share of the matmul ceiling (with a
    'ceiling' row: ceiling.py's GFLOP/s), and the load averages seen."""
    by = defaultdict(dict)  # (model, batch, variant) -> {rep: row}
    ceilings = [row["gflops"] for row in results if row["variant"] == "ceiling"]
    for row in results:
        if row["variant"] != "ceiling":
            by[(row["model"], row["batch"], row["variant"])][row["rep"]] = row
    configs = sorted({(model, batch) for model, batch, _ in by},
                     key=lambda key: (specs.MODELS.index(key[0]), key[1]))
    variants = [v for v in specs.VARIANTS if any(key[2] == v for key in by)]
    peers = [v for v in specs.PEERS if v in variants]
    before = "lstmkit_before" in variants
    lines = [header, "",
             "| model | batch | phase | " + " | ".join(specs.LABELS[v] for v in variants)
             + " | lstmkit / best peer: median (each rep) |" + (" lstmkit / before: median (each rep) |" if before else "")
             + (" lstmkit: share of the matmul ceiling |" if ceilings else "") + " load average (1 min) |",
             "|---|---|---|" + "---|" * len(variants) + "---|---|" + ("---|" if before else "")
             + ("---|" if ceilings else "")]
    for model, batch in configs:
        for phase, phase_name in PHASES:
            key = f"{phase}_sps"
            cells, rows = [], []
            for variant in variants:
                reps = by.get((model, batch, variant), {})
                values = [row[key] for row in reps.values() if key in row]
                rows += [row for row in reps.values() if key in row]
                cells.append(_number(statistics.median(values)) if values else "—")
            if not rows:
                continue
            ratio = _ratio(by, model, batch, key, peers)
            if before:
                ratio += " | " + _ratio(by, model, batch, key, ["lstmkit_before"])
            if ceilings:
                ratio += " | " + _share(by, model, batch, key, statistics.median(ceilings))
            loads = _loads(rows, phase)
            lines.append(f"| {specs.TITLES[model]} | {batch} | {phase_name} | " + " | ".join(cells)
                         + f" | {ratio} | {min(loads):.1f}–{max(loads):.1f} |")
    return "\n".join(lines) + "\n"


def replace_between_markers(document: str, block: str) -> str:
    """`document` with everything between the START and END markers replaced by `block`."""
    if document.count(START) != 1 or document.count(END) != 1 or document.index(START) > document.index(END):
        raise ValueError(f"expected one {START} followed by one {END}")
    before, rest = document.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{block.strip()}\n{END}{after}"
