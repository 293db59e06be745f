#!/usr/bin/env bash
# The agent-system evidence run on a lent GPU (see README.md here). Run from the repository root
# with the wheels folder carried (.whl: kevolve's wheel and what the GPU image lacks); writes under $OUT.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
export PYTHONPATH=/tmp/site TRITON_INTERPRET=0
export KEVOLVE_RUNS_DIR=$OUT/runs KEVOLVE_LIBRARY_DIR=$OUT/library
cd /tmp  # run from outside the checkout: the installed kevolve, as a user has it
problems=$OLDPWD/eval_harness/problems
transcripts=$OLDPWD/benchmarks/agent_runs/transcripts
{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
} > "$OUT/environment.txt" 2>&1
common=(--device cuda:0 --no-knowledge --patience 2 --budget rounds=7)
for problem in layernorm_affine fused_bias_gelu_scale; do
  start=$SECONDS
  python3 -m kevolve optimize "$problems/$problem.py" "${common[@]}" \
    --transcript "$transcripts/$problem.yaml" --auto-approve > "$OUT/$problem.log" 2>&1
  echo "exit $? after $((SECONDS - start)) s" >> "$OUT/$problem.log"
done
# One run waits for a person, who approves it from the command line.
start=$SECONDS
python3 -m kevolve optimize "$problems/softmax_rows.py" "${common[@]}" \
  --transcript "$transcripts/softmax_rows.yaml" > "$OUT/softmax_rows.log" 2>&1
echo "exit $? after $((SECONDS - start)) s" >> "$OUT/softmax_rows.log"
python3 -m kevolve review > "$OUT/review_list.log" 2>&1
pending=$(grep -o "[0-9-]*softmax_rows:cuda0-r[0-9]*-[0-9]*" "$OUT/softmax_rows.log" | head -1)
python3 -m kevolve review show "$pending" > "$OUT/review_show.log" 2>&1
python3 -m kevolve review --no-knowledge approve "$pending" --reviewer kevolve-lead \
  --comment "checked the evidence on the H100" > "$OUT/review_approve.log" 2>&1
echo "exit $?" >> "$OUT/review_approve.log"
find "$OUT/runs" -name checkpoints.sqlite -delete  # binary and large; the summaries and evaluations stay
for summary in "$OUT"/runs/*/summary.md; do cp "$summary" "$OUT/$(basename "$(dirname "$summary")").summary.md"; done
# A call returns few files: everything but the summaries travels in one archive.
(cd "$OUT" && tar -czf evidence.tar.gz runs library ./*.log && rm -rf runs library ./*.log)
