#!/usr/bin/env bash
# Issue 17's evidence on the lent GPU in one device call (under 10 minutes), from the repository root with the
# wheels folder carried (.whl):
#   bash benchmarks/recsys/run_on_device.sh
# SPEC names another campaign spec (recsys_default_unfinished.yaml: the problems an earlier run left without an
# approved kernel, its library copied to /tmp/recsys-state/default/library first so both are checked together).
# The recommendation-model campaign in `default` (killed at CAMPAIGN_SECONDS, 345 by default: its report is written
# from what it kept), the approved kernels under compute-sanitizer's memcheck on their edge-case configurations
# (SANITIZER_SECONDS, 80), then re-timed by ../regimes/independent_timer.py (TIMER_SECONDS, 70). Everything
# comes back under $OUT/recsys.
set -uo pipefail
source benchmarks/device_environment.sh
dir=/tmp/recsys-state/default
out=$OUT/recsys
mkdir -p "$dir" "$out"
{
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
  python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
} > "$out/environment.txt" 2>&1
timeout -s KILL "${CAMPAIGN_SECONDS:-400}" python3 -m kevolve campaign run "${SPEC:-benchmarks/recsys/recsys_default.yaml}" --auto-approve \
  --campaigns-dir "$dir/campaigns" --runs-dir "$dir/runs" --library "$dir/library" \
  --cache-dir "$dir/cache" --no-knowledge > "$dir/campaign.log" 2>&1
echo "campaign: exit $?" >> "$dir/campaign.log"
id=$(basename "$(dirname "$(ls -t "$dir"/campaigns/*/campaign.sqlite | head -n 1)")")  # the newest
timeout 15 python3 -m kevolve report "$id" --campaigns-dir "$dir/campaigns" --runs-dir "$dir/runs" \
  --out "$dir/report" >> "$dir/campaign.log" 2>&1
tail -n 25 "$dir/campaign.log"
timeout "${SANITIZER_SECONDS:-80}" compute-sanitizer --tool memcheck --print-limit 50 python3 benchmarks/recsys/sanitize_kernels.py \
  --library "$dir/library" --problems eval_harness/problems > "$out/sanitizer.log" 2>&1
echo "sanitizer: exit $?" >> "$out/sanitizer.log"
tail -n 8 "$out/sanitizer.log"
tar czf "$out/recsys-state.tgz" -C /tmp/recsys-state --exclude='*.ncu-rep' --exclude='*.sqlite-journal' \
  --exclude=cache .
timeout "${TIMER_SECONDS:-70}" python3 benchmarks/regimes/independent_timer.py --problems eval_harness/problems \
  --candidates "$dir/library" --precision default --trials 50 --out "$out/independent-default.json"
