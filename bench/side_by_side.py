#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmark: tailor on the 5M set next to the machine's own BLAS.

Times, on whatever build is given (the README's default build unless told otherwise):
  tailor import of the interactions CSV end to end (snapshot written), the ALS fit
  (user-personalization, factors 64, 15 iterations, all threads), tailor batch top-25 for every
  user, and single-request p50/p99 with a filter; then, as the yardstick, numpy's sgemm and sgemv
  (OpenBLAS) on the same shapes, with one thread and with all of them, and the ratios.

  python3 bench/side_by_side.py [--build build-release] [--data INTERACTIONS.csv] [--workdir DIR]

Without --data it writes the 5M set (100k users, 50k items) with tailor_generate_interactions into
the work directory (a temporary one, removed at the end, unless --workdir is given).

The yardstick needs numpy linked to OpenBLAS; on Debian, once:
  apt-get install python3-numpy libopenblas0-pthread
and run the script with the Python that has numpy (Debian's /usr/bin/python3). Without numpy the
yardstick is skipped. Only the standard library otherwise.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SCHEMA = {"type": "record", "name": "Interactions", "fields": [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": ["null", "string"]},
    {"name": "EVENT_VALUE", "type": ["null", "float"]}]}
PARAMS = '{"factors":64,"iterations":15}'
FACTORS, ITERATIONS, TOP_N = 64, 15, 25
# The user's own items are excluded, as offline top-k evaluations of implicit feedback usually do.
FILTER = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'


def run(cmd, **kwargs):
    """Runs cmd, echoing it to stderr; returns (stdout, wall seconds)."""
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kwargs).stdout
    return out, time.perf_counter() - start


def grab(pattern, text):
    m = re.search(pattern, text)
    if not m:
        sys.exit("side_by_side: no match for %r in:\n%s" % (pattern, text))
    return [float(g) for g in m.groups()]


def yardstick(threads, users, items):
    """Runs in a child with OPENBLAS_NUM_THREADS set: numpy reads it once, at import."""
    import numpy as np
    rng = np.random.default_rng(42)
    y = rng.standard_normal((items, FACTORS), dtype=np.float32)  # the item factors
    # sgemm on blocks of users x factors by factors x items, as batch scoring multiplies them;
    # all users at once would need users*items*4 bytes, so time a sample of blocks.
    block = 1024
    u = rng.standard_normal((block, FACTORS), dtype=np.float32)
    c = np.empty((block, items), dtype=np.float32)
    np.matmul(u, y.T, out=c)
    times = []
    for _ in range(max(3, min(10, users // block))):
        t = time.perf_counter()
        np.matmul(u, y.T, out=c)
        times.append(time.perf_counter() - t)
    gemm_s = sorted(times)[len(times) // 2]
    # sgemv: the items x factors matrix times one user's vector, as a single request scans.
    v, s = u[0].copy(), np.empty(items, dtype=np.float32)
    times = []
    for _ in range(1000):
        t = time.perf_counter()
        np.matmul(y, v, out=s)
        times.append(time.perf_counter() - t)
    gemv_s = sorted(times)[len(times) // 2]
    with open("/proc/self/maps") as maps:  # which BLAS numpy really loaded
        libs = sorted({l.split()[-1] for l in maps if "blas" in l.lower()})
    openblas = [n for n in map(os.path.basename, libs) if "openblas" in n.lower()]
    return {"gflops": 2.0 * block * items * FACTORS / gemm_s / 1e9,
            "gemv_us": gemv_s * 1e6, "gemv_gbs": y.nbytes / gemv_s / 1e9,
            "blas": openblas[0] if openblas else "not OpenBLAS: " + " ".join(libs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-release", help="the CMake build directory")
    ap.add_argument("--data", help="interactions CSV (default: generate the 5M set)")
    ap.add_argument("--workdir", help="keep the data and the dataset group here")
    ap.add_argument("--requests", type=int, default=5000, help="single requests to time")
    ap.add_argument("--yardstick", nargs=3, type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.yardstick:
        print(json.dumps(yardstick(*a.yardstick)))
        return
    if a.workdir:
        os.makedirs(a.workdir, exist_ok=True)
        work = a.workdir
    else:
        scratch = tempfile.TemporaryDirectory(prefix="tailor-side-by-side-")
        work = scratch.name
    threads = os.cpu_count()
    tailor = os.path.join(a.build, "tailor")
    bench = os.path.join(a.build, "bench")
    if not os.path.exists(os.path.join(bench, "tailor_evaluate")):
        sys.exit("side_by_side: no %s/tailor_evaluate: build with -DTAILOR_BUILD_BENCH=ON (README, "
                 "Benchmarks)" % bench)
    data = a.data or os.path.join(work, "interactions.csv")
    if not a.data and not os.path.exists(data):
        run([os.path.join(bench, "tailor_generate_interactions"), data, "5000000", "100000",
             "50000", "42"])
    with open("/proc/cpuinfo") as f:
        flags = sorted(set(re.findall(r"\b(avx2|avx512f)\b", f.read())))
    version = run([tailor, "--version"])[0].strip()
    load = os.getloadavg()[0]  # other work on the machine makes every figure noisy
    rows = []  # (figure, value, unit)

    # Import end to end: a fresh group each run.
    group = os.path.join(work, "group")
    shutil.rmtree(group, ignore_errors=True)
    schema = os.path.join(work, "schema.json")
    with open(schema, "w") as f:
        json.dump(SCHEMA, f)
    run([tailor, "create", group, "--interactions-schema", schema])
    _, s = run([tailor, "import", group, "--dataset", "interactions", "--csv", data,
                "--threads", str(threads)])
    mb = os.path.getsize(data) / 1e6
    rows += [("import, end to end (snapshot written)", "%.2f" % s, "s"),
             ("import rate", "%.1f" % (mb / s), "MB/s")]

    # Fit and single requests, in one process: tailor_evaluate times each ALS sweep.
    out, _ = run([os.path.join(bench, "tailor_evaluate"), data, "--recipe",
                  "user-personalization", "--params", PARAMS, "--no-metrics", "--threads",
                  str(threads), "--latency", str(a.requests), "--filter", FILTER])
    users, items = (int(x) for x in grab(r"(\d+) users, (\d+) items", out))
    fit, per_iteration = grab(r"final fit ([\d.]+) s, ([\d.]+) s per iteration", out)
    p50, p99 = grab(r"p50 (\d+) us, p99 (\d+) us", out)
    rows += [("ALS fit, %d iterations, %d threads" % (ITERATIONS, threads), "%.2f" % fit, "s"),
             ("ALS fit per iteration", "%.3f" % per_iteration, "s"),
             ("single request p50, with the filter, 1 thread", "%.0f" % p50, "us"),
             ("single request p99, with the filter, 1 thread", "%.0f" % p99, "us")]

    # Batch top-25 for every user, through the CLI on a trained version.
    _, s = run([tailor, "train", group, "--recipe", "user-personalization", "--params", PARAMS,
                "--no-metrics", "--threads", str(threads)])
    rows.append(("tailor train, end to end", "%.2f" % s, "s"))
    user_ids = {}
    with open(data) as f:
        next(f)
        for line in f:
            user_ids[line.split(",", 1)[0]] = None
    batch_in, batch_out = os.path.join(work, "users.jsonl"), os.path.join(work, "out.jsonl")
    with open(batch_in, "w") as f:
        f.writelines('{"userId": %s}\n' % json.dumps(u) for u in user_ids)
    out, _ = run([tailor, "batch", group, "--input", batch_in, "--output", batch_out, "-n",
                  str(TOP_N), "--threads", str(threads), "--json"])
    batch = json.loads(out)
    users_per_s = batch["succeeded"] / batch["seconds"]
    rows.append(("batch top-%d, %d users, %d threads" % (TOP_N, batch["succeeded"], threads),
                 "%.0f" % users_per_s, "users/s"))

    # The yardstick, in children: OpenBLAS takes its thread count from the environment.
    try:
        subprocess.run([sys.executable, "-c", "import numpy"], check=True,
                       stderr=subprocess.DEVNULL)
        have_numpy = True
    except subprocess.CalledProcessError:
        have_numpy = False
        print("side_by_side: no numpy for %s: yardstick skipped (apt-get install python3-numpy "
              "libopenblas0-pthread, then run with Debian's python3)" % sys.executable,
              file=sys.stderr)
    blas, gemm_users, gemv_us = "not measured", [], None
    for n in sorted({1, threads}) if have_numpy else []:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n))
        out, _ = run([sys.executable, __file__, "--yardstick", str(n), str(users), str(items)],
                     env=env)
        y = json.loads(out)
        blas = y["blas"]
        gemm_users.append(y["gflops"] * 1e9 / (2.0 * FACTORS * items))
        gemv_us = gemv_us or y["gemv_us"]  # the one-thread figure: a request runs on one thread
        rows += [("yardstick sgemm %dx%d by %dx%d, %d thread(s)" % (
                     1024, FACTORS, FACTORS, items, n), "%.1f" % y["gflops"], "GFLOP/s"),
                 ("  the users/s that sgemm alone allows", "%.0f" % gemm_users[-1], "users/s"),
                 ("yardstick sgemv %dx%d, %d thread(s)" % (items, FACTORS, n),
                  "%.1f" % y["gemv_gbs"], "GB/s"),
                 ("  sgemv time", "%.0f" % y["gemv_us"], "us")]
    if gemm_users:
        # Against the faster sgemm: on a busy machine more threads can come out slower.
        rows += [("ratio: tailor batch / the best sgemm users/s",
                  "%.2f" % (users_per_s / max(gemm_users)), "x"),
                 ("ratio: tailor p50 / sgemv time (1 thread)", "%.2f" % (p50 / gemv_us), "x")]

    print("\nCPU: %s; vector extensions: %s; %d cores; %s; load average at the start %.1f" % (
        cpu_model(), " ".join(flags) or "neither avx2 nor avx512f", threads, version, load))
    print("data: %s (%.0f MB, %d users, %d items); filter: %s; BLAS: %s\n" % (
        os.path.basename(data), mb, users, items, FILTER, blas))
    width = max(len(r[0]) for r in rows)
    print("%-*s  %10s  %s" % (width, "figure", "value", "unit"))
    for figure, value, unit in rows:
        print("%-*s  %10s  %s" % (width, figure, value, unit))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
    return m.group(1).strip() if m else "unknown"


if __name__ == "__main__":
    main()
