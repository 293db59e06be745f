#!/usr/bin/env bash
# Which schedule wins, per problem and regime, in one device call (under 10 minutes), from the repository root
# with the wheels folder carried (.whl):
#   bash benchmarks/regimes/sweep_on_device.sh
# For each regime (REGIMES, "default bf16" by default): write_variants.py writes the offline engine's first COUNT
# candidates (6 by default: every schedule's defaults in the cost model's order, then launch settings) for the
# fusion problems, and independent_timer.py times them all beside eager and torch.compile in one interleaved loop
# (TRIALS each, 30 by default; at most SWEEP_SECONDS per regime, 240 by default). Everything comes back under
# $OUT: the variants' sources and the timer's JSON per regime; summarize_sweep.py turns each into a table.
# PROBLEMS (a shell glob) and TAG (a suffix of the files it writes) sweep another set in the same call, e.g.
#   PROBLEMS='eval_harness/problems/recsys_*.py' TAG=-recsys REGIMES=default bash benchmarks/regimes/sweep_on_device.sh
set -uo pipefail
source benchmarks/device_environment.sh
# shellcheck disable=SC2206  # the glob is meant to expand
problems=(${PROBLEMS:-eval_harness/problems/fusion_*.py eval_harness/problems/fused_bias_gelu_scale.py
          eval_harness/problems/block_mlp.py eval_harness/problems/block_residual_conv.py})
tag=${TAG:-}
nvidia-smi --query-gpu=name,driver_version --format=csv > "$OUT/environment.txt" 2>&1
python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)" \
  >> "$OUT/environment.txt" 2>&1
for regime in ${REGIMES:-default bf16}; do
  python3 benchmarks/regimes/write_variants.py --precision "$regime" --count "${COUNT:-6}" \
    --out "$OUT/variants$tag-$regime" "${problems[@]}" > "$OUT/variants$tag-$regime.log" 2>&1
  timeout "${SWEEP_SECONDS:-240}" python3 benchmarks/regimes/independent_timer.py --problems eval_harness/problems \
    --candidates "$OUT/variants$tag-$regime" --precision "$regime" --trials "${TRIALS:-30}" \
    --out "$OUT/sweep$tag-$regime.json"
done
