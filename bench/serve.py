"""Load on `lstmkit serve` over loopback: dynamic batching on vs off, 1, 8 and 32 concurrent clients.

    .venv/bin/python bench/serve.py [--sentiment RUN] [--textgen RUN] [--requests 256] [--reps 2] [--device cuda]
    .venv/bin/python bench/serve.py --before REF        # this lstmkit's server against the one at git REF

Two servers run side by side (`--max-batch 64` and `--max-batch 1`, the same runs; with --before, this
lstmkit's and REF's, both batching, REF's src/ unpacked into a scratch folder); every level is
measured on each in turn, interleaved, the order turned every rep. Each client keeps one HTTP/1.1 connection and
sends its share of a fixed number of requests one after another; the load stops by itself. Printed:
requests/s, generated characters/s, p50 and p99 latency (medians over the reps). Then the models alone,
in process and without HTTP, one request's work against 32 at once: the most batching can give on
this machine, and the least 32 clients' latency can be against one client's. Without --sentiment
or --textgen it trains small runs first (the lecture's sentiment model on 1,000 IMDB reviews, the
fast char model for a few seconds): speed does not depend on how well they are trained.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import source_at  # noqa: E402

ROOT = Path(__file__).parents[1]
IMDB = ROOT.parent / "shared" / "data" / "imdb" / "aclImdb.tar.gz"


def reviews(count: int) -> list[str]:
    """`count` IMDB test reviews, a seeded draw: real lengths (median about 170 words)."""
    import random

    from lstmkit.tasks.sentiment.readers import read_labelled

    texts = read_labelled(IMDB)["test"].texts
    return random.Random(0).sample(texts, count)


def train_runs(folder: Path, source: Path | None = None) -> tuple[Path, Path]:
    """The two small runs, trained by this lstmkit or by the one in `source` (a src/ folder): an
    older lstmkit may not read the files a newer one writes, while a newer one reads the old."""
    sentiment, textgen = folder / "sentiment", folder / "textgen"
    env = {**os.environ, "PYTHONPATH": str(source)} if source is not None else None
    subprocess.run([sys.executable, "-m", "lstmkit", "sentiment", "train", "--data", IMDB, "--preset", "lecture",
                    "--epochs", "1", "--minutes", "0.2", "--out", sentiment, "--quiet"], check=True, env=env)
    subprocess.run([sys.executable, "-m", "lstmkit", "textgen", "train", "--preset", "fast", "--epochs", "1",
                    "--minutes", "0.1", "--out", textgen, "--quiet"], check=True, env=env)
    return sentiment, textgen


def start_server(runs, max_batch: int, device: str = "cpu", source: Path | None = None):
    """`lstmkit serve` on a free port -> (process, port); from `source` (a src/ folder) when given."""
    env = {**os.environ, "PYTHONPATH": str(source)} if source is not None else None
    process = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", *map(str, runs), "--port", "0",
                                "--max-batch", str(max_batch), "--max-pending", "100000", "--device", device],
                               stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    return process, int(line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


async def client(port: int, path: str, bodies: list[bytes], count: int, latencies: list, chars: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for number in range(count):
            body = bodies[number % len(bodies)]
            request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            headers = (await reader.readuntil(b"\r\n\r\n")).decode()
            length = int(next(line.split(":")[1] for line in headers.split("\r\n")
                              if line.lower().startswith("content-length")))
            answer = json.loads(await reader.readexactly(length))
            latencies.append(time.perf_counter() - started)
            if not headers.startswith("HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {headers.splitlines()[0]} {answer}")
            chars.append(sum(len(sample) for sample in answer.get("samples", [])))
    finally:
        writer.close()


async def load(port: int, path: str, bodies: list[dict], clients: int, requests: int) -> dict:
    latencies, chars = [], []
    encoded = [json.dumps(body).encode() for body in bodies]
    share = requests // clients
    started = time.perf_counter()
    await asyncio.gather(*(client(port, path, encoded[k * share:] + encoded[: k * share], share, latencies, chars)
                           for k in range(clients)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"requests/s": len(latencies) / seconds, "chars/s": sum(chars) / seconds,
            "p50 ms": 1000 * latencies[len(latencies) // 2],
            "p99 ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}


def model_alone(sentiment: Path, textgen: Path, texts: list[str], length: int, reps: int, device: str) -> None:
    """Prints the models' own batching gain at 32 requests, without HTTP: (a) sentiment, 32 reviews
    one call each against one call of all 32; (b) generation, one 1-stream sample against one
    32-stream sample of `length` characters. Interleaved, medians of `reps`."""
    import lstmkit

    classifier, generator = lstmkit.load(sentiment, device), lstmkit.load(textgen, device)
    batch = texts[:32]
    work = {"sentiment, 32 reviews": (lambda: [classifier.predict([text]) for text in batch],
                                      lambda: classifier.predict(batch)),
            f"generation, {length} chars each": (lambda: generator.sample("the ", length, temperature=0.8, num=1),
                                                  lambda: generator.sample("the ", length, temperature=0.8, num=32))}
    times = {key: ([], []) for key in work}
    for _ in range(reps):
        for key, (one, together) in work.items():
            for way, seconds in zip((one, together), times[key]):
                started = time.perf_counter()
                way()
                seconds.append(time.perf_counter() - started)
    print("\nThe models alone, in process (no HTTP), medians:")
    print("| work | one request | 32 requests at once | 32 one at a time / 32 at once | 32 at once / one |")
    print("|---|---|---|---|---|")
    for key, (one, together) in times.items():
        one_ms, together_ms = 1000 * statistics.median(one), 1000 * statistics.median(together)
        if key.startswith("sentiment"):  # `one` ran the 32 reviews one after another
            one_ms /= 32
        print(f"| {key} | {one_ms:.2f} ms | {together_ms:.2f} ms | {32 * one_ms / together_ms:.1f}x | "
              f"{together_ms / one_ms:.1f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentiment", type=Path)
    parser.add_argument("--textgen", type=Path)
    parser.add_argument("--requests", type=int, default=256, help="sentiment requests per measurement")
    parser.add_argument("--generations", type=int, default=64, help="generation requests per measurement")
    parser.add_argument("--length", type=int, default=200, help="characters per generation request")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="where the served models run (cpu, cuda)")
    parser.add_argument("--before", metavar="REF", help="compare with the server of git REF (both batching)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    source = source_at.unpack(args.before, Path(scratch.name) / "before") if args.before else None
    if args.sentiment is None or args.textgen is None:
        args.sentiment, args.textgen = train_runs(Path(scratch.name), source)
    runs = [args.sentiment, args.textgen]
    if args.before:  # both idle while the other is measured
        servers = {"after": start_server(runs, 64, args.device),
                   f"before ({args.before})": start_server(runs, 64, args.device, source)}
    else:
        servers = {"on": start_server(runs, 64, args.device), "off": start_server(runs, 1, args.device)}
    tasks = {"sentiment": ("/v1/sentiment", [{"texts": [text]} for text in reviews(args.requests)], args.requests),
             # against --before, no seed text: its field's name changed (seed -> seed_text); both start from a newline
             "generate": ("/v1/generate", [{"length": args.length, "temperature": 0.8,
                                            **({} if args.before else {"seed_text": "the "})}],
                          args.generations)}
    results = {}
    try:
        for rep in range(args.reps):
            for task, (path, body, requests) in tasks.items():
                for clients in (1, 8, 32):
                    # the order turns every rep: the server measured second never always follows the other
                    for server, (_, port) in list(servers.items())[:: 1 if rep % 2 == 0 else -1]:
                        count = requests if clients > 1 else max(8, requests // 8)
                        measured = asyncio.run(load(port, path, body, clients, count))
                        results.setdefault((task, clients, server), []).append(measured)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    model_alone(args.sentiment, args.textgen, reviews(args.requests), args.length, max(5, args.reps), args.device)
    print(f"{args.reps} interleaved reps; sentiment: one IMDB test review per request ({args.requests} different); "
          f"generation: {args.length} characters per request")
    print(f"| task | clients | {'server' if args.before else 'batching'} | requests/s | chars/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for (task, clients, server), rows in results.items():
        median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        chars = f"{median['chars/s']:,.0f}" if task == "generate" else "-"
        print(f"| {task} | {clients} | {server} | {median['requests/s']:,.1f} | {chars} | {median['p50 ms']:.1f} | "
              f"{median['p99 ms']:.1f} |")


if __name__ == "__main__":
    main()
