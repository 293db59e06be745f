#!/usr/bin/env bash
# The offline engine over the problem suite on a lent GPU: `kevolve optimize` per problem, no model,
# no knowledge base, hybrid policy, fp32, plateau termination, auto-approval (recorded as such).
#   bash benchmarks/offline_engine/run_suite.sh [ARCHIVE_NAME [PROBLEM ...]]    # default: every suite problem
# Run from the repository root with the wheels folder carried (.whl). The archive under $OUT is
# rewritten after every problem, so a call cut short by its time limit keeps every problem it finished.
set -uo pipefail
part=${1:-all}
shift || true
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || exit 1
export PYTHONPATH=/tmp/site TRITON_INTERPRET=0
root=$PWD
cd /tmp  # the installed kevolve, as a user has it
{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__)"
} > "$OUT/environment-$part.txt" 2>&1
if [ $# -eq 0 ]; then set -- $(ls "$root"/eval_harness/problems/*.py | grep -v __init__ | xargs -n1 basename | sed 's/.py$//'); fi
for name in "$@"; do
  path=$root/eval_harness/problems/$name.py
  start=$SECONDS
  python3 -m kevolve optimize "$path" --device cuda:0 --policy hybrid --no-knowledge \
    --candidates-per-round 4 --patience 1 --budget rounds=3,wall=90 --auto-approve \
    --runs-dir "/tmp/runs/$name" --library "/tmp/library" > "/tmp/$name.log" 2>&1
  echo "exit $? after $((SECONDS - start)) s" >> "/tmp/$name.log"
  find "/tmp/runs/$name" -name checkpoints.sqlite -delete
  mv "/tmp/$name.log" "/tmp/runs/$name/"
  tar -czf "$OUT/suite-$part.tar.gz.partial" -C /tmp runs library && mv "$OUT/suite-$part.tar.gz.partial" "$OUT/suite-$part.tar.gz"
done
