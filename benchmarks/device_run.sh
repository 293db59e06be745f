#!/usr/bin/env bash
# Runs on the lent GPU machine (see the device tool): installs the carried wheels, then one step.
#   bash benchmarks/device_run.sh baselines PROBLEM...   baselines only, for these problems
#   bash benchmarks/device_run.sh full                   the whole suite with candidates, throughput, profiles
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
      --out "$OUT/throughput.json"
    for name in softmax_rows rmsnorm_rows; do
      timeout 120 python3 -m kevolve profile "eval_harness/problems/$name.py" --candidate "benchmarks/candidates/$name.py" \
        --out profiles | tee "profiles-$name.txt"
    done
    cat profiles-*.txt > "$OUT/profile-summaries.txt"
    # The adversarial corpus through the CUDA paths (CI runs it on the CPU interpreter).
    KEVOLVE_TEST_DEVICE=cuda:0 TRITON_INTERPRET=0 timeout 240 python3 -m pytest -q -p no:cacheprovider \
      tests/adversarial > "$OUT/adversarial-gpu.txt" 2>&1
    tar czf "$OUT/profiles.tgz" --exclude='*.ncu-rep' profiles ;;
esac
tar czf "$OUT/bench-cache.tgz" "$cache"
