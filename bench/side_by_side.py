#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmark: tailor on the 5M set next to the machine's own BLAS and implicit.

Times, on whatever build is given (the README's default build unless told otherwise):
  tailor import of the interactions CSV end to end (snapshot written), the ALS fit
  (user-personalization, factors 64, 15 iterations, all threads), tailor batch top-25 for every
  user, and single-request p50/p99 with a filter; then, as the yardstick, numpy's sgemm and sgemv
  (OpenBLAS) on the same shapes, with one thread and with all of them, and the ratios.

  With --implicit, the same figures from implicit (CPU ALS, conjugate gradient, its default three
  steps, OpenBLAS single-threaded, the same thread count) on the same data in the same run, and
  pandas read_csv + factorize as the import yardstick, with the ratios tailor / implicit; they
  need `import implicit` (and pandas, scipy) in this Python, and are skipped with a note
  otherwise. --runs N repeats every measurement N times, tailor and implicit in turn, and reports
  medians (with the range): the figures of a shared machine are noisy.

  python3 bench/side_by_side.py [--build build-release] [--data INTERACTIONS.csv] [--workdir DIR]
                                [--implicit] [--runs N]

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


def implicit_child(data, threads, requests):
    """implicit's fit, batch and single-request figures, in a child with OpenBLAS on one thread
    (implicit's advice: its own threads do the parallel work)."""
    import numpy as np
    import pandas as pd
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import coo_matrix
    frame = pd.read_csv(data, usecols=["USER_ID", "ITEM_ID"], dtype=str)
    users, _ = pd.factorize(frame["USER_ID"])
    items, _ = pd.factorize(frame["ITEM_ID"])
    # Repeated (user, item) pairs are summed, as tailor's training does.
    user_items = coo_matrix((np.ones(len(users), dtype=np.float32), (users, items))).tocsr()
    user_items.sum_duplicates()
    model = AlternatingLeastSquares(factors=FACTORS, iterations=ITERATIONS, use_cg=True,
                                    num_threads=threads, random_state=42)
    start = time.perf_counter()
    model.fit(user_items, show_progress=False)
    fit = time.perf_counter() - start
    n_users = user_items.shape[0]
    # Batch: top-25 for every user, in batches of users, without filtering (as tailor batch).
    ids = np.arange(n_users)
    block = 10000
    start = time.perf_counter()
    for first in range(0, n_users, block):
        chunk = ids[first:first + block]
        model.recommend(chunk, user_items[chunk], N=TOP_N, filter_already_liked_items=False)
    batch = time.perf_counter() - start
    # Single requests with the user's own items filtered; the CSR rows are sliced beforehand, so
    # only recommend() itself is timed.
    rng = np.random.default_rng(7)
    sample = rng.integers(0, n_users, size=requests)
    rows = [user_items[int(u)] for u in sample]
    times = []
    for u, row in zip(sample, rows):
        t = time.perf_counter()
        model.recommend(int(u), row, N=TOP_N, filter_already_liked_items=True)
        times.append(time.perf_counter() - t)
    times.sort()
    return {"version": implicit.__version__, "fit": fit, "per_iteration": fit / ITERATIONS,
            "batch_users_s": n_users / batch, "p50_us": times[len(times) // 2] * 1e6,
            "p99_us": times[int(len(times) * 0.99)] * 1e6, "nnz": int(user_items.nnz)}


def pandas_child(data):
    """pandas read_csv + factorize of the user and item columns: the import yardstick."""
    import pandas as pd
    start = time.perf_counter()
    frame = pd.read_csv(data)
    pd.factorize(frame["USER_ID"])
    pd.factorize(frame["ITEM_ID"])
    return {"seconds": time.perf_counter() - start, "version": pd.__version__}


def importable(module):
    return subprocess.run([sys.executable, "-c", "import " + module],
                          stderr=subprocess.DEVNULL).returncode == 0


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-release", help="the CMake build directory")
    ap.add_argument("--data", help="interactions CSV (default: generate the 5M set)")
    ap.add_argument("--workdir", help="keep the data and the dataset group here")
    ap.add_argument("--requests", type=int, default=5000, help="single requests to time")
    ap.add_argument("--implicit", action="store_true",
                    help="time implicit (and pandas) on the same data in the same run")
    ap.add_argument("--runs", type=int, default=1, help="repeat each measurement; report medians")
    ap.add_argument("--yardstick", nargs=3, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--implicit-child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--pandas-child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.yardstick:
        print(json.dumps(yardstick(*a.yardstick)))
        return
    if a.implicit_child:
        data, threads, requests = a.implicit_child
        print(json.dumps(implicit_child(data, int(threads), int(requests))))
        return
    if a.pandas_child:
        print(json.dumps(pandas_child(a.pandas_child)))
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
    load = os.getloadavg()  # other work on the machine makes every figure noisy
    with_implicit = a.implicit and importable("implicit")
    if a.implicit and not with_implicit:
        print("side_by_side: `import implicit` fails in %s: implicit skipped" % sys.executable,
              file=sys.stderr)
    with_pandas = a.implicit and importable("pandas")
    if a.implicit and not with_pandas:
        print("side_by_side: no pandas in %s: its import yardstick skipped" % sys.executable,
              file=sys.stderr)
    have_numpy = importable("numpy")
    if not have_numpy:
        print("side_by_side: no numpy for %s: yardstick skipped (apt-get install python3-numpy "
              "libopenblas0-pthread, then run with Debian's python3)" % sys.executable,
              file=sys.stderr)
    figures = {}  # figure -> (unit, [one value per run]), in the order first met
    add = lambda figure, value, unit: figures.setdefault(figure, (unit, []))[1].append(value)
    mb = os.path.getsize(data) / 1e6
    blas, implicit_version, users, items = "not measured", None, 0, 0
    for _ in range(max(1, a.runs)):
        users, items = measure_tailor(a, tailor, bench, data, work, threads, mb, add)
        if with_implicit:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS=str(threads))
            out, _ = run([sys.executable, __file__, "--implicit-child", data, str(threads),
                          str(a.requests)], env=env)
            r = json.loads(out)
            implicit_version = r["version"]
            add("implicit ALS fit, %d iterations, %d threads" % (ITERATIONS, threads), r["fit"],
                "s")
            add("implicit ALS fit per iteration", r["per_iteration"], "s")
            add("implicit batch top-%d, all users, %d threads" % (TOP_N, threads),
                r["batch_users_s"], "users/s")
            add("implicit single request p50, filter_already_liked_items", r["p50_us"], "us")
            add("implicit single request p99, filter_already_liked_items", r["p99_us"], "us")
        if with_pandas:
            out, _ = run([sys.executable, __file__, "--pandas-child", data])
            add("pandas read_csv + factorize", mb / json.loads(out)["seconds"], "MB/s")
        # The yardstick, in children: OpenBLAS takes its thread count from the environment.
        for n in sorted({1, threads}) if have_numpy else []:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n))
            out, _ = run([sys.executable, __file__, "--yardstick", str(n), str(users), str(items)],
                         env=env)
            y = json.loads(out)
            blas = y["blas"]
            add("yardstick sgemm %dx%d by %dx%d, %d thread(s)" % (1024, FACTORS, FACTORS, items, n),
                y["gflops"], "GFLOP/s")
            add("  the users/s that sgemm alone allows, %d thread(s)" % n,
                y["gflops"] * 1e9 / (2.0 * FACTORS * items), "users/s")
            add("yardstick sgemv %dx%d, %d thread(s)" % (items, FACTORS, n), y["gemv_gbs"], "GB/s")
            add("  sgemv time, %d thread(s)" % n, y["gemv_us"], "us")

    med = {k: median(v) for k, (_, v) in figures.items()}
    ratios = []  # (figure, value, target)
    batch_key = [k for k in med if k.startswith("batch top-") and "in process" in k][0]
    sgemm = [med[k] for k in med if k.startswith("  the users/s that sgemm")]
    if sgemm:
        # Against the faster sgemm: on a busy machine more threads can come out slower.
        ratios.append(("tailor batch (in process) / the best sgemm users/s", med[batch_key] / max(sgemm),
                       ">= 0.60"))
        ratios.append(("tailor p50 / sgemv time (1 thread)",
                       med["single request p50, with the filter, 1 thread"] /
                       med["  sgemv time, 1 thread(s)"], ""))
    if with_implicit:
        ratios += [
            ("tailor ALS fit / implicit ALS fit",
             med["ALS fit, %d iterations, %d threads" % (ITERATIONS, threads)] /
             med["implicit ALS fit, %d iterations, %d threads" % (ITERATIONS, threads)], "<= 0.35"),
            ("tailor batch (in process) users/s / implicit's", med[batch_key] /
             med["implicit batch top-%d, all users, %d threads" % (TOP_N, threads)], ">= 3"),
            ("tailor p99 / implicit p99", med["single request p99, with the filter, 1 thread"] /
             med["implicit single request p99, filter_already_liked_items"], "<= 0.4")]
    if with_pandas:
        ratios.append(("tailor import MB/s / pandas read_csv + factorize",
                       med["import rate"] / med["pandas read_csv + factorize"], ">= 5"))

    print("\nCPU: %s; vector extensions: %s; %d cores; %s; load average at the start %.1f %.1f "
          "%.1f, at the end %.1f %.1f %.1f" % ((cpu_model(), " ".join(flags) or
                                               "neither avx2 nor avx512f", threads, version) +
                                              tuple(load) + tuple(os.getloadavg())))
    print("data: %s (%.0f MB, %d users, %d items); filter: %s; BLAS: %s%s; %d run(s), medians\n" %
          (os.path.basename(data), mb, users, items, FILTER, blas,
           "; implicit " + implicit_version if implicit_version else "", max(1, a.runs)))
    width = max(len(k) for k in list(figures) + [r[0] for r in ratios])
    print("%-*s  %10s  %-8s %s" % (width, "figure", "median", "unit", "range"))
    for figure, (unit, values) in figures.items():
        spread = "%s - %s" % (fmt(min(values)), fmt(max(values))) if len(values) > 1 else ""
        print("%-*s  %10s  %-8s %s" % (width, figure, fmt(med[figure]), unit, spread))
    print()
    for figure, value, target in ratios:
        print("%-*s  %10.2f  x        %s" % (width, "ratio: " + figure, value,
                                            "target " + target if target else ""))


def fmt(v):
    return "%.0f" % v if abs(v) >= 100 else "%.3g" % v


def measure_tailor(a, tailor, bench, data, work, threads, mb, add):
    """One run of every tailor figure; returns (users, items)."""
    # Import end to end: a fresh group each run.
    group = os.path.join(work, "group")
    shutil.rmtree(group, ignore_errors=True)
    schema = os.path.join(work, "schema.json")
    with open(schema, "w") as f:
        json.dump(SCHEMA, f)
    run([tailor, "create", group, "--interactions-schema", schema])
    _, s = run([tailor, "import", group, "--dataset", "interactions", "--csv", data,
                "--threads", str(threads)])
    add("import, end to end (snapshot written)", s, "s")
    add("import rate", mb / s, "MB/s")

    # Fit and single requests, in one process: tailor_evaluate times each ALS sweep.
    out, _ = run([os.path.join(bench, "tailor_evaluate"), data, "--recipe",
                  "user-personalization", "--params", PARAMS, "--no-metrics", "--threads",
                  str(threads), "--latency", str(a.requests), "--filter", FILTER, "--batch",
                  "--batch-runs", "1"])
    users, items = (int(x) for x in grab(r"(\d+) users, (\d+) items", out))
    fit, per_iteration = grab(r"final fit ([\d.]+) s, ([\d.]+) s per iteration", out)
    p50, p99 = grab(r"p50 (\d+) us, p99 (\d+) us", out)
    add("ALS fit, %d iterations, %d threads" % (ITERATIONS, threads), fit, "s")
    add("ALS fit per iteration", per_iteration, "s")
    add("single request p50, with the filter, 1 thread", p50, "us")
    add("single request p99, with the filter, 1 thread", p99, "us")
    # In process, as implicit's recommend() is: recommend_all, responses built, nothing written.
    add("batch top-%d, all users, %d threads (recommend_all, in process)" % (TOP_N, threads),
        grab(r"batch median over \d+ runs: ([\d.]+) users/s", out)[0], "users/s")

    # Batch top-25 for every user, through the CLI on a trained version.
    _, s = run([tailor, "train", group, "--recipe", "user-personalization", "--params", PARAMS,
                "--no-metrics", "--threads", str(threads)])
    add("tailor train, end to end", s, "s")
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
    add("batch top-%d, all users, %d threads (tailor batch, JSON lines out)" % (TOP_N, threads),
        batch["succeeded"] / batch["seconds"], "users/s")
    return users, items


def cpu_model():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
    return m.group(1).strip() if m else "unknown"


if __name__ == "__main__":
    main()
