#!/usr/bin/env bash
# Issue 18's evidence on the lent GPU in one device call (under 10 minutes), from the repository root with the
# wheels folder carried (.whl):
#   bash benchmarks/regimes/run_on_device.sh
# The fusion campaign in `default`, then in `bf16` (each killed at CAMPAIGN_SECONDS, 160 by default: its report is
# written from what it kept), then the kernels each approved re-timed by independent_timer.py in the same regime
# (TIMER_SECONDS each, 80 by default). Everything
# comes back under $OUT: the campaigns' state (reports, runs, library) as regimes-state.tgz, the timer's JSON.
set -uo pipefail
source benchmarks/device_environment.sh
state=/tmp/regimes-state
mkdir -p "$state"
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
  python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
} > "$OUT/environment.txt" 2>&1
for regime in default bf16; do
  dir=$state/$regime
  mkdir -p "$dir"
  timeout -s KILL "${CAMPAIGN_SECONDS:-160}" python3 -m kevolve campaign run "benchmarks/regimes/fusion_$regime.yaml" --auto-approve \
    --campaigns-dir "$dir/campaigns" --runs-dir "$dir/runs" --library "$dir/library" \
    --cache-dir "$dir/cache" --no-knowledge > "$dir/campaign.log" 2>&1
  echo "campaign $regime: exit $?" >> "$dir/campaign.log"
  id=$(basename "$(dirname "$(ls "$dir"/campaigns/*/campaign.sqlite | head -n 1)")")
  timeout 12 python3 -m kevolve report "$id" --campaigns-dir "$dir/campaigns" --runs-dir "$dir/runs" \
    --out "$dir/report" >> "$dir/campaign.log" 2>&1
  tail -n 15 "$dir/campaign.log"
done
tar czf "$OUT/regimes-state.tgz" -C "$state" --exclude='*.ncu-rep' --exclude='*.sqlite-journal' --exclude=cache .
for regime in default bf16; do
  timeout "${TIMER_SECONDS:-80}" python3 benchmarks/regimes/independent_timer.py --problems eval_harness/problems \
    --candidates "$state/$regime/library" --precision "$regime" --trials 50 --out "$OUT/independent-$regime.json"
done
