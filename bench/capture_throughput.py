"""Capture throughput: N documents served from 127.0.0.1, captured twice by the real CLI.

    python bench/capture_throughput.py [--pages 500] [--corpus ../shared/corpus]

Serves real raw pages of the sample corpus (cycled) from a local HTTP server, declares one
document per page, and runs `clausewatch capture` twice in a subprocess: a first capture (every
page a new version) and a second one (every page unchanged). Prints pages per second and the
capture process's peak memory, as JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TYPES = [line.split(":")[0] for line in (ROOT / "content/document-types.yaml").read_text().splitlines()
         if line and not line.startswith((" ", "#"))]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    snapshots = sorted(args.corpus.glob("*/*/snapshots/*.html"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site = work / "www"
        site.mkdir()
        for i in range(args.pages):
            (site / f"p{i}.html").symlink_to(snapshots[i % len(snapshots)])
        handler = functools.partial(_Quiet, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        content = work / "content"
        (content / "services").mkdir(parents=True)
        for name in ("site.yaml", "document-types.yaml"):
            (content / name).write_bytes((ROOT / "content" / name).read_bytes())
        for s in range((args.pages + len(TYPES) - 1) // len(TYPES)):
            docs = [f"  {t}:\n    url: {base}/p{s * len(TYPES) + j}.html"
                    for j, t in enumerate(TYPES) if s * len(TYPES) + j < args.pages]
            (content / "services" / f"service-{s}.yaml").write_text(
                f"name: Service {s}\ndocuments:\n" + "\n".join(docs) + "\n")
        key = (ROOT / "demo-key" / "DEMO-ONLY-minisign.key").read_text()
        command = [sys.executable, "-m", "generator", "capture", "--content", str(content), "--archive",
                   str(work / "archive"), "--concurrency", "16", "--per-host", "16"]
        env = dict(os.environ, CLAUSEWATCH_SECRET_KEY=key)
        figures: dict[str, object] = {"pages": args.pages}
        for run in ("first", "second"):
            started = time.perf_counter()
            result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
            seconds = time.perf_counter() - started
            if not result.stdout.strip():
                sys.exit(f"capture failed:\n{result.stderr}")
            outcomes = result.stdout.strip().splitlines()[-1]
            figures[f"{run}_capture_s"] = round(seconds, 2)
            figures[f"{run}_pages_per_s"] = round(args.pages / seconds, 1)
            figures[f"{run}_outcomes"] = outcomes
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        server.shutdown()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
