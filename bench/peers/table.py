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


def render(results: list[dict], header: str) -> str:
    """Markdown: per model, batch and phase, each variant's median samples/s over the reps, the per-rep
    ratios lstmkit / best peer (best of the peers measured in that same rep) and their median, and
    the load averages seen."""
    by = defaultdict(dict)  # (model, batch, variant) -> {rep: row}
    for row in results:
        by[(row["model"], row["batch"], row["variant"])][row["rep"]] = row
    configs = sorted({(model, batch) for model, batch, _ in by},
                     key=lambda key: (specs.MODELS.index(key[0]), key[1]))
    variants = [v for v in specs.VARIANTS if any(key[2] == v for key in by)]
    peers = [v for v in specs.PEERS if v in variants]
    lines = [header, "",
             "| model | batch | phase | " + " | ".join(specs.LABELS[v] for v in variants)
             + " | lstmkit / best peer: median (each rep) | load average (1 min) |",
             "|---|---|---|" + "---|" * len(variants) + "---|---|"]
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
            ratios = []
            for rep, row in sorted(by.get((model, batch, "lstmkit"), {}).items()):
                best = [by[(model, batch, p)][rep][key] for p in peers
                        if rep in by.get((model, batch, p), {}) and key in by[(model, batch, p)][rep]]
                if key in row and best:
                    ratios.append(row[key] / max(best))
            ratio = (f"{statistics.median(ratios):.2f}× ({', '.join(f'{r:.2f}' for r in ratios)})"
                     if ratios else "—")
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
