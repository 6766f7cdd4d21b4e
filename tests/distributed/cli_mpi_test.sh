#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `mpirun -np 2 tailor train|batch`: rank 0 saves one version that records 2 ranks and writes the
# single-process batch output; a rank failing mid-job fails the job with nothing written.
# Usage: cli_mpi_test.sh TAILOR DATA_DIR MPIEXEC NUMPROC_FLAG [MPIEXEC_FLAGS...]
set -euo pipefail
tailor=$1 data=$2 mpiexec=$3 np=$4
shift 4
flags=("$@")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mpi() { "$mpiexec" "$np" 2 "${flags[@]}" "$tailor" "$@"; }

"$tailor" create "$dir/g" --interactions-schema "$data/interactions_schema.json" >/dev/null
"$tailor" import "$dir/g" --dataset interactions --csv "$data/interactions.csv" >/dev/null
params='{"factors": 8, "iterations": 3}'

# A rank that throws at iteration 2: the job fails and no version is written.
if TAILOR_MPI_FAIL_AT=1:2 mpi train "$dir/g" --recipe user-personalization --params "$params" \
    --no-metrics > "$dir/failed.out" 2>&1; then
  fail "a job with a failing rank succeeded"
fi
grep -q "failed at iteration 2" "$dir/failed.out" || fail "no error from the failing rank"
"$tailor" info "$dir/g" --json | grep -q '"solutions":\[\]' || fail "a failed job saved a version"
[ -z "$(ls -A "$dir/g/solutions" 2>/dev/null)" ] || fail "a failed job left files in solutions/"

# Two ranks: one version (rank 0's), "ranks":2.
mpi train "$dir/g" --recipe user-personalization --params "$params" --no-metrics --json \
  > "$dir/train.out"
info=$("$tailor" info "$dir/g" --json)
echo "$info" | grep -q '"ranks":2' || fail "info does not record 2 ranks: $info"
[ "$(echo "$info" | grep -o '"id":' | wc -l)" = 1 ] || fail "not exactly one version: $info"

# One process: "ranks":1.
"$tailor" train "$dir/g" --recipe user-personalization --params "$params" --no-metrics \
  --solution single >/dev/null
"$tailor" info "$dir/g" --json | grep -q '"name":"single".*"ranks":1' || fail "single: ranks 1"

# Batch: the distributed output is the single-process one, byte for byte.
for u in $(seq 0 7 300); do printf '{"userId":"user-%04d"}\n' "$u"; done > "$dir/in.jsonl"
echo '{broken' >> "$dir/in.jsonl"
"$tailor" batch "$dir/g" --solution user-personalization --input "$dir/in.jsonl" \
  --output "$dir/single.jsonl" >/dev/null
mpi batch "$dir/g" --solution user-personalization --input "$dir/in.jsonl" \
  --output "$dir/many.jsonl" >/dev/null
cmp "$dir/single.jsonl" "$dir/many.jsonl" || fail "the distributed batch output differs"

# A rank failing in the first block: no output, no temporary file.
if TAILOR_MPI_FAIL_AT=1:1 mpi batch "$dir/g" --solution user-personalization \
    --input "$dir/in.jsonl" --output "$dir/failed.jsonl" > "$dir/batch-failed.out" 2>&1; then
  fail "a batch job with a failing rank succeeded"
fi
! ls "$dir"/failed.jsonl* >/dev/null 2>&1 || fail "a failed batch job left output"
echo OK
