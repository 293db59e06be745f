#!/usr/bin/env bash
# Runs on the lent GPU machine (see the device tool): installs the carried wheels, then one step.
#   bash benchmarks/device_run.sh baselines PROBLEM...   baselines only, for these problems
#   bash benchmarks/device_run.sh full                   the whole suite with candidates, then throughput
# The baseline cache travels in .bench-cache (tarred into $OUT at the end of each step), so a suite
# whose torch.compile baselines take longer than one call can be measured over two calls.
set -uo pipefail
step=$1; shift
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
export PYTHONPATH=/tmp/site:${PYTHONPATH:-} PYTHONUNBUFFERED=1
cache=.bench-cache
mkdir -p "$cache"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv \
  > "$OUT/nvidia-smi.csv"
case $step in
  baselines)
    timeout 540 python3 -m kevolve bench --baselines-only --cache-dir "$cache" --only "$@" \
      --out "$OUT/baselines.json" 2>&1 | tail -n 80 ;;
  full)
    timeout 420 python3 -m kevolve bench --candidates benchmarks/candidates --cache-dir "$cache" \
      --out "$OUT/bench.json" 2>&1 | tail -n 80
    timeout 150 python3 benchmarks/harness_throughput.py --candidates benchmarks/candidates \
      --out "$OUT/throughput.json" ;;
esac
tar czf "$OUT/bench-cache.tgz" "$cache"
