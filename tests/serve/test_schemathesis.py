"""The API does what its OpenAPI document says, by a fuzzer no one here wrote: Schemathesis, every
check, against `lstmkit serve` of a run of each task (a translation with attention too), with and
without an API key. Bounded and repeatable: a fixed seed, deterministic generation, one worker and
a fixed number of examples per operation. (docs/SERVING.md has the 4-minute run.)"""

import os
import subprocess
import sys

import pytest

SCHEMATHESIS = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"]


def start(*arguments):
    """`lstmkit serve *arguments --port 0` -> (process, base URL from the line it prints)."""
    process = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", *map(str, arguments), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    line = process.stdout.readline()
    assert "serving" in line, (line, process.stderr.read() if process.poll() is not None else "")
    return process, "http://" + line.split("http://", 1)[1].split()[0]


@pytest.mark.parametrize("key", [None, "k3y"])
def test_schemathesis_finds_nothing(served_runs, tmp_path, key):
    runs = [served_runs[name] for name in ("sentiment", "textgen", "translate", "attention")]
    process, url = start(*runs, *(["--api-key", key] if key else []))
    try:
        result = subprocess.run([*SCHEMATHESIS, "run", url + "openapi.json", "--checks", "all", "--seed", "1",
                                 "--generation-deterministic", "--workers", "1",
                                 "--max-examples", "15", "--request-timeout", "60", "--no-color",
                                 "--report-dir", str(tmp_path), *(["--header", f"X-API-Key: {key}"] if key else [])],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
    finally:
        process.terminate()
        process.wait(60)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "6 selected / 6 total" in result.stdout  # every operation was tried
