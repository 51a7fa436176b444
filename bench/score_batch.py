"""Batch scoring throughput: the engine in-process, and ``ketacare score --batch`` end to end.

Run: ``.venv/bin/python bench/score_batch.py [--cases N]``. Cases are a seeded mix of the 13
instruments: mostly complete, some with missing answers, a few invalid."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ketacare.clinical import instruments


def cases(n: int, seed: int = 7) -> list[dict[str, object]]:
    rng, library = random.Random(seed), list(instruments.library().values())
    out: list[dict[str, object]] = []
    for _ in range(n):
        ins = rng.choice(library)
        answers: list[object] = [rng.choice(item.values) for item in ins.items]
        if rng.random() < 0.2:
            answers[rng.randrange(len(answers))] = None
        if rng.random() < 0.02:
            answers[0] = 99
        out.append({"instrument": ins.id, "answers": answers})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    n = parser.parse_args().cases
    batch = cases(n)
    instruments.library()  # load once, as a long-running process would
    start = time.perf_counter()
    for request in batch:
        instruments.score_request(request)
    engine = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.jsonl"
        path.write_text("\n".join(json.dumps(c) for c in batch) + "\n")
        env = {**os.environ, "KETACARE_VAR_DIR": tmp}
        ketacare = Path(sys.executable).with_name("ketacare")
        start = time.perf_counter()
        done = subprocess.run(
            [ketacare, "score", "--batch", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        cli = time.perf_counter() - start
    lines = done.stdout.count("\n") + (0 if done.stdout.endswith("\n") else 1)
    print(f"{n} responses, 13 instruments, ~20% incomplete, ~2% invalid")
    print(f"engine in-process: {engine:.2f} s = {n / engine:,.0f} responses/s")
    print(
        f"ketacare score --batch (start-up, parse, score, write): {cli:.2f} s "
        f"= {n / cli:,.0f} responses/s"
    )
    return 0 if lines == n else 1


if __name__ == "__main__":
    sys.exit(main())
